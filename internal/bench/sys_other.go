//go:build !unix

package bench

import "time"

// cpuTime is 0 where the process's CPU time is not read.
func cpuTime() time.Duration { return 0 }

// syncDisks does nothing where the page cache is not synced.
func syncDisks() {}
