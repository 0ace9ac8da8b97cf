package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/tenant"
)

const usersUsage = `Usage:
  volley users create --email E --name N [--password P]   create an account with its own organization
  volley users list                                        list every account
  volley users reset-password --email E [--password P]    set a new password and sign out its sessions

They work whether or not a server is running on the same data directory or database.`

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usersUsage)
		return usageError{"users: expected a subcommand: create, list or reset-password"}
	}
	switch args[0] {
	case "create":
		return usersCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return usersList(ctx, args[1:], stdout, stderr)
	case "reset-password":
		return usersResetPassword(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usersUsage)
		return nil
	}
	fmt.Fprintln(stderr, usersUsage)
	return usageError{fmt.Sprintf("users: unknown subcommand %q", args[0])}
}

// usersCommand is what every users subcommand opens: the store, beside a
// running server when there is one, and the tenancy rules.
type usersCommand struct {
	sf    storeFlags
	store store.Store
	svc   *tenant.Service
}

func (u *usersCommand) open(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	key, previous, err := u.sf.secretKeys()
	if err != nil {
		return err
	}
	st, err := u.sf.openStore(ctx, true)
	if errors.Is(err, storesqlite.ErrLocked) {
		// A server holds the embedded database: work beside it rather than
		// asking the operator to stop it.
		fmt.Fprintln(stderr, "volley: a running server holds the data directory; working alongside it")
		st, err = storesqlite.Open(ctx, storesqlite.Config{Path: u.sf.sqliteFile(), Shared: true})
	}
	if err != nil {
		return err
	}
	box, err := sealBox(key, previous)
	if err != nil {
		st.Close()
		return err
	}
	u.store = st
	u.svc = tenant.New(tenant.Config{Store: st, Box: box, Rand: rand.Reader})
	return nil
}

func usersCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users create", "users create --email E --name N [flags]", stderr)
	var u usersCommand
	u.sf.register(fs)
	email := fs.String("email", "", "the account's email (required)")
	name := fs.String("name", "", "the account's display name (required)")
	password := fs.String("password", "", "the account's password; default: generated and printed")
	if err := u.open(ctx, fs, args, stderr); err != nil {
		return err
	}
	defer u.store.Close()
	if *email == "" || *name == "" {
		fs.Usage()
		return usageError{"users create: --email and --name are required"}
	}
	acct, err := u.svc.CreateAccount(ctx, tenant.AccountParams{Email: *email, Name: *name, Password: *password})
	if err != nil {
		return fmt.Errorf("users create: %w", err)
	}
	fmt.Fprintf(stdout, "Created account %d (%s) with organization %q (id %d) and its default project (id %d).\n",
		acct.Account.ID, acct.Account.Email, acct.Org.Name, acct.Org.ID, acct.Project.ID)
	fmt.Fprintf(stdout, "API token: %s\n", acct.Token)
	if acct.Password != "" {
		fmt.Fprintf(stdout, "Password:  %s\n", acct.Password)
	}
	return nil
}

func usersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users list", "users list [flags]", stderr)
	var u usersCommand
	u.sf.register(fs)
	if err := u.open(ctx, fs, args, stderr); err != nil {
		return err
	}
	defer u.store.Close()
	accounts, err := u.store.AccountList(ctx)
	if err != nil {
		return fmt.Errorf("users list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tCREATED")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.ID, a.Email, a.Name, a.CreatedAt.Format("2006-01-02 15:04 UTC"))
	}
	return tw.Flush()
}

func usersResetPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users reset-password", "users reset-password --email E [flags]", stderr)
	var u usersCommand
	u.sf.register(fs)
	email := fs.String("email", "", "the account's email (required)")
	password := fs.String("password", "", "the new password; default: generated and printed")
	if err := u.open(ctx, fs, args, stderr); err != nil {
		return err
	}
	defer u.store.Close()
	if *email == "" {
		fs.Usage()
		return usageError{"users reset-password: --email is required"}
	}
	acct, generated, err := u.svc.ResetPassword(ctx, *email, *password)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("users reset-password: no account with email %s", *email)
	}
	if err != nil {
		return fmt.Errorf("users reset-password: %w", err)
	}
	fmt.Fprintf(stdout, "Set a new password for account %d (%s) and signed out its sessions.\n", acct.ID, acct.Email)
	if generated != "" {
		fmt.Fprintf(stdout, "Password:  %s\n", generated)
	}
	return nil
}
