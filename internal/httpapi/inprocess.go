package httpapi

import (
	"context"

	"github.com/volleyhq/volley/internal/volley"
)

// inProcessAccount is the context key of an account that code in this
// process has already authenticated. It is unexported: only WithAccount can
// set it, so no request from the network can carry one.
type inProcessAccount struct{}

// WithAccount returns a context whose requests the API serves as acct,
// without a bearer token. It is for code in the same process that has
// authenticated the person itself (the console, by its session cookie) and
// calls the API handler directly, so that the API stays the one place that
// checks roles and validates input. Nothing sent over the network can reach
// this: the value lives in the request's context, never in a header.
func WithAccount(ctx context.Context, acct *volley.Account) context.Context {
	return context.WithValue(ctx, inProcessAccount{}, acct)
}

// accountFrom returns the account set by WithAccount, or nil.
func accountFrom(ctx context.Context) *volley.Account {
	acct, _ := ctx.Value(inProcessAccount{}).(*volley.Account)
	return acct
}
