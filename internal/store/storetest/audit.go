package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

func auditTests() []test {
	return []test{
		{"Audit/InsertAndList", testAuditInsertAndList},
		{"Audit/Filters", testAuditFilters},
		{"Audit/Paging", testAuditPaging},
		{"Audit/Delete", testAuditDelete},
	}
}

// auditRecord returns an unsaved record of org made at when.
func auditRecord(org uint64, action, targetType, targetID string, when time.Time) store.AuditRecord {
	return store.AuditRecord{
		OrgID: org, ActorAccountID: 7, ActorTokenID: 9, Action: action, TargetType: targetType, TargetID: targetID,
		ClientAddr: "192.0.2.10", CreatedAt: when,
	}
}

func testAuditInsertAndList(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := auditRecord(1, "source.update", "source", "12", now)
	rec.Changes = []store.AuditChange{
		{Field: "name", Old: json.RawMessage(`"Old name"`), New: json.RawMessage(`"New name"`)},
		{Field: "eps", Old: json.RawMessage(`0`), New: json.RawMessage(`{"a":[1,2]}`)},
		{Field: "auth_key", Secret: true},
	}
	bare := auditRecord(1, "project.delete", "project", "3", now.Add(time.Second))
	other := auditRecord(2, "source.create", "source", "13", now)
	recs := []store.AuditRecord{rec, bare, other}
	noErr(t, "AuditInsert", s.AuditInsert(ctx, recs))
	for i := range recs {
		if recs[i].ID == 0 {
			t.Fatalf("AuditInsert left the ID of record %d unset", i)
		}
	}
	noErr(t, "AuditInsert of nothing", s.AuditInsert(ctx, nil))
	got, err := s.AuditList(ctx, store.AuditListParams{OrgID: 1, Limit: 10})
	noErr(t, "AuditList", err)
	same(t, "AuditList of org 1, newest first", got, []store.AuditRecord{recs[1], recs[0]})
	got, err = s.AuditList(ctx, store.AuditListParams{OrgID: 3, Limit: 10})
	noErr(t, "AuditList of an org without records", err)
	same(t, "AuditList of an org without records", got, []store.AuditRecord{})
}

func testAuditFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := auditRecord(1, "source.update", "source", "12", now)
	b := auditRecord(1, "source.delete", "source", "12", now.Add(time.Minute))
	c := auditRecord(1, "destination.update", "destination", "12", now.Add(2*time.Minute))
	c.ActorAccountID = 8
	d := auditRecord(1, "source.update", "source", "14", now.Add(3*time.Minute))
	recs := []store.AuditRecord{a, b, c, d}
	noErr(t, "AuditInsert", s.AuditInsert(ctx, recs))
	a, b, c, d = recs[0], recs[1], recs[2], recs[3]
	for _, tc := range []struct {
		name string
		p    store.AuditListParams
		want []store.AuditRecord
	}{
		{"actor", store.AuditListParams{ActorAccountID: 8}, []store.AuditRecord{c}},
		{"action", store.AuditListParams{Action: "source.update"}, []store.AuditRecord{d, a}},
		{"target type", store.AuditListParams{TargetType: "source"}, []store.AuditRecord{d, b, a}},
		{"target id", store.AuditListParams{TargetID: "12"}, []store.AuditRecord{c, b, a}},
		{"target", store.AuditListParams{TargetType: "source", TargetID: "12"}, []store.AuditRecord{b, a}},
		{"start", store.AuditListParams{Start: now.Add(time.Minute)}, []store.AuditRecord{d, c, b}},
		{"end", store.AuditListParams{End: now.Add(time.Minute)}, []store.AuditRecord{a}},
		{"range and action", store.AuditListParams{Start: now.Add(time.Second), End: now.Add(time.Hour), Action: "source.update"},
			[]store.AuditRecord{d}},
		{"nothing matches", store.AuditListParams{Action: "org.delete"}, []store.AuditRecord{}},
	} {
		tc.p.OrgID, tc.p.Limit = 1, 10
		got, err := s.AuditList(ctx, tc.p)
		noErr(t, "AuditList by "+tc.name, err)
		same(t, "AuditList by "+tc.name, got, tc.want)
	}
}

func testAuditPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	var recs []store.AuditRecord
	for i := range 7 {
		// Two records share each time: the id breaks the tie.
		recs = append(recs, auditRecord(1, "project.update", "project", fmt.Sprint(i), now.Add(time.Duration(i/2)*time.Second)))
	}
	noErr(t, "AuditInsert", s.AuditInsert(ctx, recs))
	cursor := func(r store.AuditRecord) *store.Cursor { return &store.Cursor{Key: r.CreatedAt.UnixMicro(), ID: r.ID} }
	page := func(after, before *store.Cursor) []store.AuditRecord {
		t.Helper()
		got, err := s.AuditList(ctx, store.AuditListParams{OrgID: 1, Limit: 3, After: after, Before: before})
		noErr(t, "AuditList page", err)
		return got
	}
	rev := func(idx ...int) []store.AuditRecord {
		out := []store.AuditRecord{}
		for _, i := range idx {
			out = append(out, recs[i])
		}
		return out
	}
	first := page(nil, nil)
	same(t, "first page", first, rev(6, 5, 4))
	second := page(cursor(first[2]), nil)
	same(t, "second page", second, rev(3, 2, 1))
	same(t, "third page", page(cursor(second[2]), nil), rev(0))
	same(t, "back from the second page", page(nil, cursor(second[0])), rev(6, 5, 4))
	same(t, "back from the third page", page(nil, cursor(recs[0])), rev(3, 2, 1))
}

func testAuditDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	var recs []store.AuditRecord
	for i := range 5 {
		recs = append(recs, auditRecord(1, "org.update", "org", "1", now.Add(time.Duration(i)*time.Hour)))
	}
	noErr(t, "AuditInsert", s.AuditInsert(ctx, recs))
	n, err := s.AuditDelete(ctx, now.Add(3*time.Hour), 2)
	noErr(t, "AuditDelete", err)
	if n != 2 {
		t.Fatalf("AuditDelete with limit 2 deleted %d, want 2", n)
	}
	n, err = s.AuditDelete(ctx, now.Add(3*time.Hour), 2)
	noErr(t, "AuditDelete again", err)
	if n != 1 {
		t.Fatalf("second AuditDelete deleted %d, want the 1 left before the cutoff", n)
	}
	n, err = s.AuditDelete(ctx, now.Add(3*time.Hour), 2)
	noErr(t, "AuditDelete with nothing left", err)
	if n != 0 {
		t.Fatalf("third AuditDelete deleted %d, want 0", n)
	}
	got, err := s.AuditList(ctx, store.AuditListParams{OrgID: 1, Limit: 10})
	noErr(t, "AuditList", err)
	same(t, "records left", got, []store.AuditRecord{recs[4], recs[3]})
}
