-- External ids move from an index of events to the body search index's
-- parts (issue 8; see search_xid.go): each part gets a table of the
-- external ids of the events it indexes, filled by this migration's first
-- step (fillXidTables, in Go: only search_parts names the parts), and the
-- index, whose random entries retention rewrote a page per event, goes.
DROP INDEX events_external_id;
