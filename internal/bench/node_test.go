package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartNodeExits: a node that exits before it answers /healthz fails
// the start at once, pointing at its log, instead of being waited for
// until nodeStartTimeout.
func TestStartNodeExits(t *testing.T) {
	t.Parallel()
	exe, err := exec.LookPath("false")
	if err != nil {
		t.Skipf("no false command: %v", err)
	}
	log, err := os.Create(filepath.Join(t.TempDir(), "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	n, err := startNode(t.Context(), exe, nil, log)
	if err == nil {
		n.stop()
		t.Fatal("startNode succeeded with a command that exits")
	}
	if !strings.Contains(err.Error(), "exited before it became healthy") || !strings.Contains(err.Error(), log.Name()) {
		t.Errorf("startNode: %v", err)
	}
}
