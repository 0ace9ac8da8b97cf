package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/volleyhq/volley/internal/store"
)

// The audit log records every change made through the API, every reveal
// of a secret, every replay and test send: who (account and token), in
// which organization, what (action and target), when, from where, and
// which fields changed (old and new values, except for secrets, of which
// it only says that they changed).
//
// A handler describes what it did with c.audit(…) before it writes its
// answer; register writes the records when the answer's status is written
// (below 400), so a client that sees the answer can read the record. The
// record is written right after the change, not in its transaction: a crash
// between the change's commit and the record's loses that one record (the
// change stands); nothing else is lost. A mutating route that succeeds
// without describing itself still gets a record, of action "unaudited",
// and an error is logged: TestAuditEveryMutatingRoute fails on it.

// auditUnaudited is the action of the record written for a successful
// mutating request whose handler described nothing.
const auditUnaudited = "unaudited"

// auditEntry is what one request did to one target.
type auditEntry struct {
	action     string // "<target type>.<verb>", e.g. "source.update"
	targetType string
	targetID   string
	// orgID is the organization the target belongs to when it is not the
	// request's organization context (a new organization).
	orgID   uint64
	changes []store.AuditChange
}

// audit describes what the request did to a target, for the audit log:
// action is "<type>.<verb>" (e.g. "source.update"), changes the fields it
// changed (see fieldChanges and secretChanged). Call it before writing
// the answer. An account-wide action (tokens, CLI logins) made outside
// any organization context is recorded in every organization of the
// account.
func (c *caller) audit(action, targetType string, targetID any, changes ...store.AuditChange) {
	c.auditEntries = append(c.auditEntries, auditEntry{action: action, targetType: targetType,
		targetID: fmt.Sprint(targetID), changes: changes})
}

// auditIn is audit for a target in another organization than the request's
// context (POST /api/org makes one).
func (c *caller) auditIn(orgID uint64, action, targetType string, targetID any, changes ...store.AuditChange) {
	c.audit(action, targetType, targetID, changes...)
	c.auditEntries[len(c.auditEntries)-1].orgID = orgID
}

// valueSet records a field set by an action that changes no stored
// resource (the attempts a replay made, the event a test send made).
func valueSet(field string, v any) store.AuditChange {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(strconv.Quote(fmt.Sprint(v)))
	}
	return store.AuditChange{Field: field, New: b}
}

// secretChanged says that a secret field changed, without its value.
func secretChanged(field string) store.AuditChange {
	return store.AuditChange{Field: field, Secret: true}
}

// auditSkipped lists fields of API views that are not worth a change
// entry: they change with every write or are derived from other fields.
var auditSkipped = map[string]bool{"created_at": true, "updated_at": true, "ingestion_url": true, "connection_count": true}

// auditSecret lists fields of API views whose values are secrets (a key
// shown once, an invitation link): a change only says that they changed.
var auditSecret = map[string]bool{"auth_key": true, "token": true, "secret": true, "previous_secret": true, "password": true}

// fieldChanges compares two API views of a resource (either may be nil: a
// creation or a deletion) field by field and returns the changed fields,
// by name. Fields named in secret (and the well-known secret names) only
// say that they changed.
func fieldChanges(before, after any, secret ...string) []store.AuditChange {
	b, a := viewFields(before), viewFields(after)
	names := make([]string, 0, len(b)+len(a))
	for k := range b {
		names = append(names, k)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []store.AuditChange
	for _, k := range names {
		if auditSkipped[k] || bytes.Equal(b[k], a[k]) {
			continue
		}
		if auditSecret[k] || slices.Contains(secret, k) {
			out = append(out, secretChanged(k))
			continue
		}
		out = append(out, store.AuditChange{Field: k, Old: b[k], New: a[k]})
	}
	return out
}

// viewFields returns the top-level JSON fields of v; nil for nil.
func viewFields(v any) map[string]json.RawMessage {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		// Views are plain structs: this cannot fail but for a programming
		// error, which the audit test shows.
		return map[string]json.RawMessage{"view_error": json.RawMessage(strconv.Quote(err.Error()))}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// auditWriter writes the request's audit records when a successful answer
// starts, before any of it reaches the client.
type auditWriter struct {
	http.ResponseWriter
	api      *API
	r        *http.Request
	c        *caller
	pattern  string
	mutating bool
	done     bool
}

// WriteHeader implements http.ResponseWriter.
func (w *auditWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		if code < 400 {
			w.api.writeAudit(w.r, w.c, w.pattern, w.mutating)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *auditWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the listen
// stream flushes through it).
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeAudit stores what c described. The change itself is committed by
// now, so a failure to record it is logged, not answered.
func (a *API) writeAudit(r *http.Request, c *caller, pattern string, mutating bool) {
	entries := c.auditEntries
	if len(entries) == 0 {
		if !mutating {
			return
		}
		a.cfg.Logger.ErrorContext(r.Context(), "api route changed something without describing it for the audit log",
			"route", pattern)
		entries = []auditEntry{{action: auditUnaudited, targetType: "route", targetID: pattern}}
	}
	var tokenID uint64
	if c.token != nil {
		tokenID = c.token.ID
	}
	now, addr := a.now(), a.clientAddr(r)
	var recs []store.AuditRecord
	for _, e := range entries {
		orgs, err := a.auditOrgs(r, c, e)
		if err != nil {
			a.cfg.Logger.ErrorContext(r.Context(), "audit log: find organizations", "action", e.action, "err", err)
			orgs = []uint64{0}
		}
		for _, org := range orgs {
			recs = append(recs, store.AuditRecord{OrgID: org, ActorAccountID: c.account.ID, ActorTokenID: tokenID,
				Action: e.action, TargetType: e.targetType, TargetID: e.targetID, ClientAddr: addr,
				Changes: e.changes, CreatedAt: now})
		}
	}
	if err := a.cfg.Store.AuditInsert(r.Context(), recs); err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "audit log: write records", "route", pattern, "err", err)
	}
}

// auditOrgs returns the organizations a record of e belongs in: its own,
// else the request's context, else every organization of the actor (an
// account-wide action), else none (0).
func (a *API) auditOrgs(r *http.Request, c *caller, e auditEntry) ([]uint64, error) {
	switch {
	case e.orgID != 0:
		return []uint64{e.orgID}, nil
	case c.org != nil:
		return []uint64{c.org.ID}, nil
	}
	ms, err := a.cfg.Store.OrgList(r.Context(), c.account.ID)
	if err != nil {
		return nil, fmt.Errorf("list organizations of account %d: %w", c.account.ID, err)
	}
	if len(ms) == 0 {
		return []uint64{0}, nil
	}
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out, nil
}

// clientAddr is the request's client address (behind trusted proxies, the
// one they forwarded), as the brute-force limits see it.
func (a *API) clientAddr(r *http.Request) string {
	if addr := a.cfg.Proxies.Client(r); addr.IsValid() {
		return addr.String()
	}
	return r.RemoteAddr
}
