package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/volleyhq/volley/internal/tenant"
)

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: volley users create --email E --name N [--password P]")
		return usageError{"users: expected the subcommand create"}
	}
	fs := newFlagSet("users create", "users create --email E --name N [flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	email := fs.String("email", "", "the account's email (required)")
	name := fs.String("name", "", "the account's display name (required)")
	password := fs.String("password", "", "the account's password; default: generated and printed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		fs.Usage()
		return usageError{"users create: --email and --name are required"}
	}
	key, err := sf.secretKey()
	if err != nil {
		return err
	}
	st, err := sf.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	box, err := sealBox(key)
	if err != nil {
		return err
	}
	svc := tenant.New(tenant.Config{Store: st, Box: box, Rand: rand.Reader})
	acct, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: *email, Name: *name, Password: *password})
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
