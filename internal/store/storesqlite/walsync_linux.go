package storesqlite

import (
	"os"
	"syscall"
)

// syncData makes f's data durable without its times: what SQLite's own
// WAL sync does on Linux (fdatasync).
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err == nil {
			return nil
		}
		if err != syscall.EINTR {
			return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
		}
	}
}
