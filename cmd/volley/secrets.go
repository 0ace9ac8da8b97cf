package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/volleyhq/volley/internal/rekey"
	"github.com/volleyhq/volley/internal/store/storesqlite"
)

const secretsUsage = `Usage:
  volley secrets rotate-key [--batch N]   re-seal every stored secret under the current key

rotate-key reads the keys as serve does: VOLLEY_SECRET_KEY (the new key) and
VOLLEY_SECRET_KEY_PREVIOUS (the old ones), or the key file in the data directory (first line the
new key, later lines the old ones). It works while servers run; run it once every node seals with
the new key. It may be stopped and run again at any time: what is done is skipped. See
docs/security.md, "Rotating the master key".`

func runSecrets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, secretsUsage)
		return usageError{"secrets: expected a subcommand: rotate-key"}
	}
	switch args[0] {
	case "rotate-key":
		return secretsRotateKey(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, secretsUsage)
		return nil
	}
	fmt.Fprintln(stderr, secretsUsage)
	return usageError{fmt.Sprintf("secrets: unknown subcommand %q", args[0])}
}

func secretsRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("secrets rotate-key", "secrets rotate-key [flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	batch := fs.Int("batch", rekey.DefaultBatch, "values re-sealed per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("secrets rotate-key: unexpected argument %q", fs.Arg(0))}
	}
	if *batch <= 0 {
		return usageError{"--batch must be positive"}
	}
	key, previous, err := sf.secretKeys()
	if err != nil {
		return err
	}
	box, err := sealBox(key, previous)
	if err != nil {
		return err
	}
	st, err := sf.openStore(ctx, true)
	if errors.Is(err, storesqlite.ErrLocked) {
		// A server holds the embedded database: rotate beside it.
		fmt.Fprintln(stderr, "volley: a running server holds the data directory; working alongside it")
		st, err = storesqlite.Open(ctx, storesqlite.Config{Path: sf.sqliteFile(), Shared: true})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := rekey.Run(ctx, rekey.Config{Store: st, Box: box, Batch: *batch})
	fmt.Fprintf(stdout, "Re-sealed %d values under key %s; %d already were; %d changed meanwhile and were left as written.\n",
		res.Resealed, box.KeyID(), res.Current, res.Changed)
	if err != nil {
		return fmt.Errorf("secrets rotate-key: %w (run it again to resume)", err)
	}
	if res.Changed > 0 {
		fmt.Fprintln(stdout, "Run it again to re-seal the values that changed meanwhile.")
		return nil
	}
	fmt.Fprintln(stdout, "Every secret is sealed under the current key: the previous keys may now be removed.")
	return nil
}
