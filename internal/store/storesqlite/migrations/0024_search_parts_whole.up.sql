-- A sealed part of the body search index, once merged down to one segment
-- (mergeSearchIndex, search_index.go), is marked whole: it gets no more
-- words and retention drops it whole, so it stays one segment. A node
-- opening the store merges only the parts not marked, where it used to
-- look at every part again, one write turn each (152 at 10M events).
-- Parts of a store before this migration are not marked: the first node
-- to open it finds them whole and marks them.
ALTER TABLE search_parts ADD COLUMN whole INTEGER NOT NULL DEFAULT 0;
