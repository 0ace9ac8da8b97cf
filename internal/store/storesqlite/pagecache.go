package storesqlite

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/volleyhq/volley/internal/store"
)

// Page memory. In WAL mode a connection drops its whole page cache when it
// starts a read after another connection committed, which under ingestion
// is nearly every read. This build of SQLite keeps one page cache group for
// every connection of the process, so a drop frees each page under the
// group's mutex, which every connection's reads and commits take, and the
// driver's allocator hands emptied memory back to the kernel one madvise
// at a time: a read connection dropping the pages a body search had left
// held every commit and ingest behind it for 100-240 ms
// (docs/benchmarks.md, "The first PUT's stall, found", and "Page memory of
// its own").
//
// So SQLite gets its page memory from one buffer taken at start
// (SQLITE_CONFIG_PAGECACHE): a page freed goes back on SQLite's own list
// of free slots and never reaches the allocator, and a drop is a walk of
// that list. The buffer is address space until SQLite first uses a slot,
// and it reuses the slots freed last first, so the resident part is what
// the caches hold at their fullest, as before. Pages beyond it (more
// stores open in one process than it was sized for) come from the
// allocator as before.
//
// SQLite takes the setting only before its first connection in the
// process, so it is made once (pageBuffer), by registerFunctions, before
// the store opens any; a process that opened a connection before (a test
// opening a file directly) keeps the allocator.
// VOLLEY_SQLITE_PAGE_MEMORY=malloc keeps it too: the way back, and the
// comparison in the benchmarks. A node's metrics say how full the buffer
// is (PageMemory): when its free slots run out, pages come from the
// allocator again and SQLite treats the shortage as memory pressure, its
// caches no longer growing.

// pageMemoryBytes is the buffer's size: the caches of one store's
// connections (writer, readers as Open makes them by default,
// checkpointer) and 8 MiB for SQLite's temporary tables.
func pageMemoryBytes() int {
	return (writeCacheKiB+defaultReadConns()*readCacheKiB+checkpointCacheKiB)<<10 + 8<<20
}

// pageMemoryPage is the largest page the buffer's slots hold: the page
// size Volley's stores are made with, SQLite's default.
const pageMemoryPage = 4096

// pageBuffer gives SQLite its page buffer, once per process, and returns
// how many pages it holds: 0 when SQLite keeps the allocator.
var pageBuffer = sync.OnceValues(configurePageMemory)

// configurePageMemory gives SQLite its page buffer, and returns its slots.
func configurePageMemory() (int, error) {
	if os.Getenv("VOLLEY_SQLITE_PAGE_MEMORY") == "malloc" {
		return 0, nil
	}
	tls := libc.NewTLS()
	defer tls.Close()
	// Room for three variadic arguments of 8 bytes each (libc.VaList's
	// slot), and for the int SQLite writes the page header's size to.
	va := libc.Xmalloc(tls, 4*8)
	if va == 0 {
		return 0, fmt.Errorf("configure page memory: out of memory")
	}
	defer libc.Xfree(tls, va)
	hdr := va + 3*8
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, libc.VaList(va, hdr)); rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("configure page memory: page header size: SQLite error %d", rc)
	}
	slot := (pageMemoryPage + int(*(*int32)(offHeap(hdr))) + 7) &^ 7
	n := pageMemoryBytes() / slot
	buf := libc.Xmalloc(tls, types.Size_t(n*slot))
	if buf == 0 {
		return 0, fmt.Errorf("configure page memory: out of memory for %d bytes", n*slot)
	}
	switch rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, libc.VaList(va, buf, int32(slot), int32(n))); rc {
	case sqlite3.SQLITE_OK:
		return n, nil // the buffer is SQLite's for the life of the process
	case sqlite3.SQLITE_MISUSE: // SQLite already started in this process
		libc.Xfree(tls, buf)
		return 0, nil
	default:
		libc.Xfree(tls, buf)
		return 0, fmt.Errorf("configure page memory: SQLite error %d", rc)
	}
}

// PageMemory implements store.PageMemoryStats: pageMemory, which the
// buffer being the process's, is the same for every store.
func (s *Store) PageMemory() store.PageMemory { return pageMemory() }

// pageMemory reads the page buffer's use from SQLite's own counters: no
// I/O, one short lock of SQLite's page memory.
func pageMemory() store.PageMemory {
	slots, _ := pageBuffer()
	pm := store.PageMemory{Slots: int64(slots)}
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xmalloc(tls, 16) // the current value and the high-water mark
	if p == 0 {
		return pm
	}
	defer libc.Xfree(tls, p)
	status := func(op int32) (now, most int64) {
		if sqlite3.Xsqlite3_status64(tls, op, p, p+8, 0) != sqlite3.SQLITE_OK {
			return 0, 0
		}
		return *(*int64)(offHeap(p)), *(*int64)(offHeap(p + 8))
	}
	pm.Used, pm.UsedMax = status(sqlite3.SQLITE_STATUS_PAGECACHE_USED)
	pm.OverflowBytes, _ = status(sqlite3.SQLITE_STATUS_PAGECACHE_OVERFLOW)
	return pm
}

// offHeap is the allocator's address a as a pointer. The memory is not the
// Go heap's, so the collector ignores it; the indirection only keeps vet's
// uintptr check, which cannot tell, quiet.
func offHeap(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }
