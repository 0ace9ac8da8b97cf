//go:build unix

package storesqlite

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking lock on path. SQLite itself
// would let a second process open the file, and two Volley processes on one
// database would each run a delivery engine believing it owns every lease.
func lockFile(path string) (func() error, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: %s (lock %s): %w: %v", path[:len(path)-len(".lock")], path, ErrLocked, err)
	}
	return f.Close, nil
}
