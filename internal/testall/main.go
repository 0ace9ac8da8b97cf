// Command testall runs the whole test suite the way CI does: `go test
// -race -count=1 ./...`. The race detector needs cgo and a C compiler; on a
// machine with only Go installed there is none, so testall then runs the
// suite without -race and says so, instead of failing before any test runs.
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
