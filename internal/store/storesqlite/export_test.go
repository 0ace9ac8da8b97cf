package storesqlite

// UrgentWaiting reports whether an urgent writer (an ingest, an API change)
// is waiting for the writer.
func (s *Store) UrgentWaiting() bool { return s.writer.urgentWaiting() }

// YieldAtOnce lets a batch that can stop between two rows stop for a
// waiting urgent writer after its first row, however briefly it has held
// the writer (yieldAfter): the yield tests must not depend on how long a
// step took.
func (s *Store) YieldAtOnce() { s.yieldAfter = 0 }
