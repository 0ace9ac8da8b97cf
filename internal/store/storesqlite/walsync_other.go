//go:build !linux

package storesqlite

import "os"

// syncData makes f's data durable: os.File.Sync (fsync, or F_FULLFSYNC on
// macOS).
func syncData(f *os.File) error { return f.Sync() }
