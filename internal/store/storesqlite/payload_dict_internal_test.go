package storesqlite

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// dictTestBody is a JSON body like one source's others.
func dictTestBody(i int) []byte {
	return fmt.Appendf(nil, `{"id":"evt_%08d","type":"charge.succeeded","data":{"object":{"id":"ch_%d","amount":%d,`+
		`"currency":"usd","customer":"cus_%d","description":"Order %d","receipt_email":"r%d@example.com",`+
		`"billing_details":{"address":{"city":"Lisbon","country":"PT","line1":"Rua %d","postal_code":"1000-%03d"}},`+
		`"outcome":{"network_status":"approved_by_network","risk_level":"normal","seller_message":"Payment complete.",`+
		`"type":"authorized"},"paid":true,"status":"succeeded"}},"livemode":false}`,
		i, i*7, i*13%9000, i*3, i, i, i%200, i%1000)
}

func insertBodies(t *testing.T, s *Store, c *volley.Connection, from, to int) []store.InsertedEvent {
	t.Helper()
	var batch []store.NewEvent
	for i := from; i < to; i++ {
		batch = append(batch, store.NewEvent{Event: volley.Event{UID: fmt.Sprintf("evt_dict_%05d", i), ProjectID: c.ProjectID,
			SourceID: c.SourceID, Method: http.MethodPost, Headers: http.Header{"Content-Type": {"application/json"}},
			Body: dictTestBody(i), CreatedAt: time.Unix(1700000000+int64(i), 0).UTC()}})
	}
	out, err := s.EventInsert(t.Context(), batch)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	return out
}

// storedBody returns an event's stored payload columns.
func storedBody(t *testing.T, s *Store, eventID uint64) (encoding int, headers, body []byte) {
	t.Helper()
	err := s.read.QueryRowContext(t.Context(), `SELECT encoding, headers, body FROM event_payloads WHERE event_id = ?`, eventID).
		Scan(&encoding, &headers, &body)
	if err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return encoding, headers, body
}

// TestPayloadDictCompresses checks that a source's new payloads are
// compressed with its dictionary, and end up smaller than without.
func TestPayloadDictCompresses(t *testing.T) {
	t.Parallel()
	s, c := planStore(t)
	before := insertBodies(t, s, c, 0, 300)
	sample, err := s.PayloadSample(t.Context(), c.SourceID, 300)
	if err != nil {
		t.Fatal(err)
	}
	var in [][]byte
	for _, p := range sample {
		in = append(in, p.Body, []byte(p.Headers))
	}
	raw, err := payload.TrainDict(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := payload.DictID(raw)
	if err := s.PayloadDictInsert(t.Context(), &store.PayloadDict{ID: id, SourceID: c.SourceID, Dict: raw, Ratio: 0.5,
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	after := insertBodies(t, s, c, 300, 310)

	flags, h, b := storedBody(t, s, before[0].ID)
	if hd, bd := payload.FrameDicts(flags, h, b); hd != 0 || bd != 0 || flags != payload.BodyZstd {
		t.Errorf("payload before the dictionary: flags %d, dictionaries %d, %d; want the body alone compressed, without", flags, hd, bd)
	}
	plainSize := len(b)
	flags, h, b = storedBody(t, s, after[0].ID)
	if hd, bd := payload.FrameDicts(flags, h, b); hd != id || bd != id {
		t.Errorf("payload after the dictionary: flags %d, dictionaries %d, %d; want both %d", flags, hd, bd, id)
	}
	t.Logf("body stored in %d bytes without a dictionary, %d with (plain %d)", plainSize, len(b), len(dictTestBody(300)))
	if len(b) > plainSize*3/4 {
		t.Errorf("body with the dictionary takes %d bytes, want under 3/4 of %d", len(b), plainSize)
	}
}

// TestPayloadDictLoadedAtOpen checks that a store registers the
// dictionaries of its file when it opens: a payload compressed with one
// this process never saw (written by an earlier run, or restored from a
// backup) reads back exactly.
func TestPayloadDictLoadedAtOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.Graph(t, s)
	ev := insertBodies(t, s, c, 0, 1)[0]

	var in [][]byte
	for i := range 200 {
		in = append(in, dictTestBody(1000+i))
	}
	raw, err := payload.TrainDict(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := payload.DictID(raw)
	if payload.DictRegistered(id) {
		t.Fatalf("dictionary %d registered before the test stored it", id)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDict(raw))
	if err != nil {
		t.Fatal(err)
	}
	frame := enc.EncodeAll(dictTestBody(0), nil)
	execAll(t, s.write,
		fmt.Sprintf(`INSERT INTO payload_dicts (id, source_id, dict, ratio, created_at) VALUES (%d, %d, x'%x', 0.5, 1)`, id, c.SourceID, raw),
		fmt.Sprintf(`UPDATE event_payloads SET encoding = %d, body = x'%x' WHERE event_id = %d`, payload.BodyZstd, frame, ev.ID))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.PayloadSample(t.Context(), c.SourceID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].Body, dictTestBody(0)) {
		t.Fatalf("PayloadSample after reopening = %q, want the body back", got)
	}
	// The body search decodes it too, checking the body.
	list, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: c.ProjectID, Search: "r0@example.com", Limit: 10})
	if err != nil || len(list) != 1 {
		t.Errorf("body search after reopening: %d events, %v; want 1 match", len(list), err)
	}
	// New events of the source use it.
	flags, h, b := storedBody(t, s, insertBodies(t, s, c, 1, 2)[0].ID)
	if _, bd := payload.FrameDicts(flags, h, b); bd != id {
		t.Errorf("new payload compressed with dictionary %d, want %d", bd, id)
	}
}

// TestPayloadDictPlans checks that the trainer's queries read through
// indexes: a source's events by one of its indexes on events (the count
// stops at its limit; the newest first for the sample), its newest
// dictionary by payload_dicts_source.
func TestPayloadDictPlans(t *testing.T) {
	t.Parallel()
	s, c := planStore(t)
	sources := explain(t, s, sqlDictSources, []any{0, 100, 1000})
	for _, want := range []string{"SEARCH e USING COVERING INDEX events_source_",
		"USING COVERING INDEX payload_dicts_source (source_id=?)", "SEARCH s USING INTEGER PRIMARY KEY (rowid>?)"} {
		if !strings.Contains(sources, want) {
			t.Errorf("PayloadDictSources plan lacks %q:\n%s", want, sources)
		}
	}
	sample := explain(t, s, sqlPayloadSample, []any{c.SourceID, 100})
	if !strings.Contains(sample, "SEARCH e USING COVERING INDEX events_source_created (source_id=?)") || strings.Contains(sample, "TEMP B-TREE") {
		t.Errorf("PayloadSample plan does not read the newest events through events_source_created:\n%s", sample)
	}
}
