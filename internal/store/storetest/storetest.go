// Package storetest is the behaviour suite that every store.Store driver must
// pass. It speaks only through the store.Store interface, so the SQLite and
// PostgreSQL drivers are held to exactly the same contract.
//
// A driver's test calls Run with a function that opens a fresh, empty,
// migrated store for one subtest and closes it with t.Cleanup:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := openEmpty(t)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every subtest opens its own store and runs in parallel with the others.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Run runs every behaviour of the suite as a parallel subtest of t, named
// "Area/Behaviour" (for example "Projects/DefaultMovesOnCreate"). open must
// return a fresh, empty store whose schema is current, and close it when the
// subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	groups := [][]test{
		storeTests(), accountTests(), tokenTests(), orgTests(), memberTests(), projectTests(),
		peopleTests(), sourceTests(), destinationTests(), connectionTests(),
		eventTests(), leaseTests(), queueTests(), holdTests(), attemptTests(), retentionTests(), idTests(),
		metricsTests(), backlogTests(), trafficSeriesTests(), backlogHistoryTests(), routingRuleTests(), orderingTests(),
		deviceTests(), streamTests(), auditTests(), sealedTests(), payloadDictTests(), replayTests(),
	}
	for _, group := range groups {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(t, open(t))
			})
		}
	}
}

// test is one behaviour of the suite.
type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

func storeTests() []test {
	return []test{{"Store/Ping", testPing}}
}

func testPing(t *testing.T, s store.Store) {
	noErr(t, "Ping", s.Ping(t.Context()))
}

// now is the fixed clock of the suite. It has whole microseconds, the
// precision every driver must keep.
var now = time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)

// fixture is an account with its first organization, default project and API
// token, as AccountCreate makes them.
type fixture struct {
	Account volley.Account
	Org     volley.Membership
	Project volley.Project
	Token   volley.APIToken
}

// newFixture creates an account named name; names must be unique within a
// store.
func newFixture(t *testing.T, s store.Store, name string) fixture {
	t.Helper()
	res, err := s.AccountCreate(t.Context(), accountParams(name))
	noErr(t, "AccountCreate "+name, err)
	return fixture{Account: res.Account, Org: res.Org, Project: res.Project, Token: res.Token}
}

// accountParams describes the account newFixture(name) creates.
func accountParams(name string) store.AccountCreateParams {
	return store.AccountCreateParams{
		Email:        name + "@example.com",
		Name:         "Person " + name,
		PasswordHash: "$2a$10$hash-of-" + name,
		OrgName:      "Org " + name,
		OrgSlug:      "org-" + name,
		Token:        newToken(name+"-api", volley.TokenKindAPI, 0),
		Now:          now,
	}
}

// newToken returns an unsaved token whose secret is secret.
func newToken(secret, kind string, accountID uint64) volley.APIToken {
	return volley.APIToken{
		AccountID: accountID,
		Kind:      kind,
		Name:      "token " + secret,
		Hash:      volley.HashToken(secret),
		Sealed:    []byte("sealed:" + secret),
		Prefix:    volley.DisplayPrefix(volley.TokenPrefix + secret),
		CreatedAt: now,
	}
}

// noErr stops the test when err is not nil.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr stops the test unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", what, err, target)
	}
}

// wantConflict stops the test unless err is a store.ErrConflict wrapped in a
// *store.ConflictError that names what clashed, and returns that name.
func wantConflict(t *testing.T, what string, err error) string {
	t.Helper()
	wantErr(t, what, err, store.ErrConflict)
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.What == "" {
		t.Fatalf("%s: error %v is not a *store.ConflictError naming what clashed", what, err)
	}
	return ce.What
}

// same reports every field in which got differs from want. Times must be the
// same instant and in UTC; everything else, including nil versus empty
// slices, must be deeply equal. Slices of structs are compared element by
// element.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	for _, d := range diff(reflect.ValueOf(got), reflect.ValueOf(want), what) {
		t.Error(d)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(got, want reflect.Value, path string) []string {
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) || g.Location() != time.UTC {
			return []string{fmt.Sprintf("%s = %v, want %v in UTC", path, g, w)}
		}
		return nil
	case got.Kind() == reflect.Struct:
		var out []string
		for i := range got.NumField() {
			if f := got.Type().Field(i); f.IsExported() {
				out = append(out, diff(got.Field(i), want.Field(i), path+"."+f.Name)...)
			}
		}
		return out
	case got.Kind() == reflect.Slice && got.Type().Elem().Kind() == reflect.Struct:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s has %d elements, want %d:\n got  %+v\n want %+v",
				path, got.Len(), want.Len(), got.Interface(), want.Interface())}
		}
		var out []string
		for i := range got.Len() {
			out = append(out, diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		return []string{fmt.Sprintf("%s = %#v, want %#v", path, got.Interface(), want.Interface())}
	}
	return nil
}

// microUTC stops the test unless got is in UTC, has whole microseconds and
// is less than a microsecond away from in.
func microUTC(t *testing.T, what string, got, in time.Time) {
	t.Helper()
	if got.Location() != time.UTC || got.Nanosecond()%1000 != 0 || got.Sub(in).Abs() >= time.Microsecond {
		t.Fatalf("%s = %v, want %v at microsecond precision in UTC", what, got, in)
	}
}
