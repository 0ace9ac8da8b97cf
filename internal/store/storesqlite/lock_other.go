//go:build !unix

package storesqlite

// lockFile is a no-op where flock is unavailable; running two processes on
// one database there is the operator's responsibility.
func lockFile(string) (func() error, error) { return func() error { return nil }, nil }
