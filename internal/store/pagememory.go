package store

// PageMemoryStats is implemented by a driver whose database engine takes
// its page memory from a buffer of its own (SQLite, storesqlite's page
// buffer). The buffer is the process's, shared by every store it opened:
// when its slots run short the engine takes pages from the allocator again
// and its caches stop growing, so a node whose free slots stay near zero
// needs a bigger buffer.
type PageMemoryStats interface {
	PageMemory() PageMemory
}

// PageMemory is the page buffer's use at one moment.
type PageMemory struct {
	// Slots is how many pages the buffer holds: 0 when the engine takes
	// every page from the allocator (the buffer turned off, or another
	// user of the engine in the process started it first).
	Slots int64
	// Used is how many slots hold a page; UsedMax the most that did at
	// once since the process started.
	Used, UsedMax int64
	// OverflowBytes is the memory of the pages that did not fit in the
	// buffer (every page, when there is none), from the allocator.
	OverflowBytes int64
}
