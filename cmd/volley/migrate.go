package main

import (
	"context"
	"fmt"
	"io"

	"github.com/volleyhq/volley/internal/store/migration"
)

// migrator is what `volley migrate` needs from a storage driver.
type migrator interface {
	MigrateUp(ctx context.Context) ([]int, error)
	MigrateDown(ctx context.Context) (int, error)
	MigrateStatus(ctx context.Context) ([]migration.State, error)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "migrate up|down|status [flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	if len(args) == 0 {
		fs.Usage()
		return usageError{"migrate: expected up, down or status"}
	}
	action := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := sf.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	m, ok := st.(migrator)
	if !ok {
		return fmt.Errorf("migrate: the %T driver has no migrations", st)
	}
	switch action {
	case "up":
		done, err := m.MigrateUp(ctx)
		for _, v := range done {
			fmt.Fprintf(stdout, "applied %04d\n", v)
		}
		if err == nil && len(done) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		}
		return err
	case "down":
		v, err := m.MigrateDown(ctx)
		if err == nil {
			if v == 0 {
				fmt.Fprintln(stdout, "no migration to revert")
			} else {
				fmt.Fprintf(stdout, "reverted %04d\n", v)
			}
		}
		return err
	case "status":
		states, err := m.MigrateStatus(ctx)
		if err != nil {
			return err
		}
		for _, s := range states {
			mark := "pending"
			if s.Applied {
				mark = "applied"
			}
			fmt.Fprintf(stdout, "%04d %-40s %s\n", s.Version, s.Name, mark)
		}
		return nil
	}
	return usageError{fmt.Sprintf("migrate: unknown action %q (want up, down or status)", action)}
}
