// Command volley is the Volley webhook gateway: the server (`volley serve`)
// and its operator tools. Run `volley help` for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"users", "manage accounts (users create)", runUsers},
		{"migrate", "apply or revert schema migrations (up, down, status)", runMigrate},
		{"backup", "copy the embedded store to a file while the server runs", runBackup},
		{"restore", "put a backup in place (the server must be stopped)", runRestore},
		{"health", "exit 0 when the local server is ready (container health checks)", runHealth},
		{"doctor", "check the configuration, store, key, disk and public URL without starting the server", runDoctor},
		{"bench", "measure ingest, end-to-end latency, delivery rate and list queries on this machine", runBench},
		{"login", "sign this machine in to a server (device login in the browser)", runLogin},
		{"logout", "revoke this machine's token on the server and forget it", runLogout},
		{"status", "show who this machine is signed in as", runStatus},
		{"listen", "forward a source's new events to a local URL as they arrive", runListen},
		{"events", "list events or show one (events list, events get)", runEvents},
		{"replay", "deliver an event again to its connections", runReplay},
		{"send", "send a test event to a source", runSend},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "volley:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	var ae authError
	if errors.As(err, &ae) {
		return exitNotAuthenticated
	}
	return 1
}

// usageError marks a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Volley, a self-hostable webhook gateway.\n\nUsage: volley <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `volley <command> -h` for a command's flags and environment variables.")
}
