package storepg_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// TestPayloadDictPlans checks that the dictionary trainer's queries read a
// source's events through an index once the table is analyzed (before,
// with PostgreSQL's default estimate of one source's share, the sample is
// read through events_source_commit and sorted; autovacuum analyzes a
// table that grows). The trainer does not run on PostgreSQL
// (PayloadDictsUsed), but the queries are part of the port.
func TestPayloadDictPlans(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	// Ten sources' events, the one sampled among them, as on a real store.
	for i := range 10 {
		events := storetest.Events(1000, i, conn, time.Now())
		for j := range events {
			if i > 0 {
				events[j].Event.SourceID = conn.SourceID + uint64(i)
			}
			events[j].Event.CreatedAt = time.Now().Add(-time.Duration(j) * time.Second)
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatal(err)
	}
	{
		const analyzed = true
		sources, sample, err := s.ExplainPayloadDict(t.Context(), conn.SourceID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sources, "Seq Scan on events") || !strings.Contains(sources, "payload_dicts_source") {
			t.Errorf("analyzed %v: PayloadDictSources plan does not count through an index:\n%s", analyzed, sources)
		}
		if !strings.Contains(sample, "Index Scan Backward using events_source_created on events") || strings.Contains(sample, "Sort") {
			t.Errorf("analyzed %v: PayloadSample plan does not read events_source_created backward:\n%s", analyzed, sample)
		}
	}
}

// TestPayloadDictAcrossNodes checks that a dictionary one node stores is
// read by another.
func TestPayloadDictAcrossNodes(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	conn := storetest.Graph(t, a)
	raw := append([]byte{0x37, 0xa4, 0x30, 0xec, 0x39, 0x30, 0, 0}, bytes.Repeat([]byte("dictionary "), 100)...)
	d := &store.PayloadDict{ID: 12345, SourceID: conn.SourceID, Dict: raw, Ratio: 0.42,
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	if err := a.PayloadDictInsert(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	got, err := b.PayloadDictGet(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || got.SourceID != d.SourceID || !bytes.Equal(got.Dict, raw) || got.Ratio != d.Ratio || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Errorf("PayloadDictGet on the other node = %+v, want %+v", got, d)
	}
	if a.PayloadDictsUsed() {
		t.Error("PayloadDictsUsed on PostgreSQL, whose payloads its own lz4 compresses")
	}
}
