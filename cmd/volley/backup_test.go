package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store/storesqlite"
)

// TestBackupUnderIngestAndRestore: `volley backup` taken while a server
// ingests, restored with `volley restore` into a new data directory, holds
// every event acknowledged before the backup started — a node started on
// the restored directory delivers each of them (the destination held every
// delivery of the first node, so all were still pending in the backup).
func TestBackupUnderIngestAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the backup test in -short mode: it builds and runs the volley binary")
	}
	t.Parallel()
	const (
		before  = 600 // sent before the backup starts
		during  = 4000
		workers = 8
	)
	bin := buildVolley(t)
	dataDir := t.TempDir()
	sink := newSeqSink(t)
	node := startVolley(t, bin, dataDir)
	project := node.defaultProject(t)
	var src struct {
		ID          uint64 `json:"id"`
		IngestionID string `json:"ingestion_id"`
	}
	node.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/sources", project), map[string]any{"name": "backup"}, &src)
	var dst struct{ ID uint64 }
	node.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/destinations", project), map[string]any{"name": "sink", "url": sink.srv.URL}, &dst)
	node.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/connections", project), map[string]any{"source_id": src.ID, "destination_id": dst.ID}, nil)

	acked := newSeqSet()
	postSeqs(node.url, src.IngestionID, 0, before, workers, func(seq int, ok bool) {
		if ok {
			acked.add(seq)
		}
	})
	// What matters is what was acknowledged, not that a busy machine
	// answered every request within the client's timeout.
	if acked.len() == 0 {
		t.Fatalf("no event acknowledged before the backup; log:\n%s", node.log.String())
	}
	wantBefore := acked.all()

	// Ingest goes on while the backup runs.
	var wg sync.WaitGroup
	ingesting, stopIngest := context.WithCancel(context.Background())
	defer stopIngest()
	wg.Go(func() {
		for first := before; ingesting.Err() == nil && first < before+during; first += 200 {
			postSeqs(node.url, src.IngestionID, first, 200, workers, func(int, bool) {})
		}
	})
	backup := filepath.Join(t.TempDir(), "volley-backup.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"backup", "--to", backup, "--data-dir", dataDir}, &out, &out)
	stopIngest()
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Backed up") || !strings.Contains(out.String(), "secret.key") {
		t.Errorf("backup output:\n%s", out.String())
	}

	// Restoring over the running server's directory is refused.
	out.Reset()
	err = run(context.Background(), []string{"restore", "--from", backup, "--data-dir", dataDir, "--force"}, &out, &out)
	if !errors.Is(err, storesqlite.ErrLocked) {
		t.Errorf("restore over a running server: %v; want it refused", err)
	}

	// The first node dies with every delivery held; its sink never counts them.
	node.cmd.Process.Kill()
	<-node.exited

	restoredDir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restoredDir, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"restore", "--from", backup, "--data-dir", restoredDir}, &out, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "opens the backup's secrets") {
		t.Errorf("restore did not check the key:\n%s", out.String())
	}

	sink.release()
	restored := startVolley(t, bin, restoredDir)
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := sink.missing(wantBefore)
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events acknowledged before the backup were not restored (e.g. %v); log:\n%s",
				len(missing), missing[:min(10, len(missing))], restored.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRestoreKeyChecks: restore says when there is no key to open the
// backup's secrets, and fails when the key there is another one.
func TestRestoreKeyChecks(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VOLLEY_SECRET_KEY", "")
	t.Setenv("VOLLEY_ADMIN_TOKEN", "")
	t.Setenv("VOLLEY_ADMIN_PASSWORD", "")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"users", "create", "--email", "a@example.com", "--name", "A", "--data-dir", dir}, &out, &out); err != nil {
		t.Fatalf("users create: %v\n%s", err, out.String())
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := run(context.Background(), []string{"backup", "--to", backup, "--data-dir", dir}, &out, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}

	noKey := t.TempDir()
	out.Reset()
	if err := run(context.Background(), []string{"restore", "--from", backup, "--data-dir", noKey}, &out, &out); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out.String(), "No secret key yet") {
		t.Errorf("restore without a key:\n%s", out.String())
	}

	wrongKey := t.TempDir()
	t.Setenv("VOLLEY_SECRET_KEY", strings.Repeat("ab", 32))
	err := run(context.Background(), []string{"restore", "--from", backup, "--data-dir", wrongKey}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "does not open its secrets") {
		t.Errorf("restore with another key: %v", err)
	}

	t.Setenv("VOLLEY_DATABASE_URL", "postgres://localhost/x")
	if err := run(context.Background(), []string{"backup", "--to", filepath.Join(t.TempDir(), "x")}, &out, &out); err == nil ||
		!strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL: %v", err)
	}
}
