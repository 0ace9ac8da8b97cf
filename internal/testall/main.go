// Command testall runs the whole test suite the way CI does: `go test
// -race -count=1 ./...`. The race detector needs cgo and a C compiler; on a
// machine with only Go installed there is none, so testall then runs the
// suite without -race and says so, instead of failing before any test runs.
// With the race detector on and no extra arguments, it then runs the few
// tests that skip themselves under -race (too slow there) without it.
// Extra arguments are passed to go test (e.g. -run TestX).
//
// Usage: go run ./internal/testall [go test flags]
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	// Some packages (the API's golden and audit sweeps, SQLite's storage
	// suite) take minutes under -race on a two-core machine; go test's
	// default 10-minute limit per package would cut them off while they
	// still progress. The CI job's own limit bounds the whole run.
	args := []string{"test", "-count=1", "-timeout=30m"}
	if raceAvailable() {
		args = append(args, "-race")
	} else {
		fmt.Fprintln(os.Stderr, "testall: no C compiler for cgo, so the race detector is off (CI runs with it)")
	}
	args = append(args, os.Args[1:]...)
	args = append(args, "./...")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
	fmt.Fprintln(os.Stderr, "testall: go", strings.Join(args, " "))
	run(cmd)
	if raceAvailable() && len(os.Args) == 1 {
		// Tests too slow under the race detector skip themselves there
		// and run here without it.
		slow := []string{"test", "-count=1", "-timeout=10m", "-run", "^TestReplayTenThousandBesideLiveTraffic$", "./internal/replay"}
		fmt.Fprintln(os.Stderr, "testall: go", strings.Join(slow, " "))
		cmd := exec.Command("go", slow...)
		cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
		run(cmd)
	}
}

// run runs cmd and exits with its status when it fails.
func run(cmd *exec.Cmd) {
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "testall:", err)
		os.Exit(1)
	}
}

// raceAvailable reports whether cgo is on, which the go command decides by
// looking for a C compiler.
func raceAvailable() bool {
	out, err := exec.Command("go", "env", "CGO_ENABLED").Output()
	return err == nil && strings.TrimSpace(string(out)) == "1"
}
