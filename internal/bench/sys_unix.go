//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process used so far, user and system; 0
// when the system does not say.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// syncDisks writes back every dirty page of the page cache, whoever wrote
// it, and returns once the disks have it.
func syncDisks() { syscall.Sync() }
