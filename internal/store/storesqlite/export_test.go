package storesqlite

// UrgentWaiting reports whether an urgent writer (an ingest, an API change)
// is waiting for the writer.
func (s *Store) UrgentWaiting() bool {
	s.writer.mu.Lock()
	defer s.writer.mu.Unlock()
	return s.writer.urgentWait > 0
}
