package storesql

import (
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// AuditListQuery returns the query of a page of an organization's audit
// log, selecting cols from audit_log, with "?" placeholders (Numbered for
// PostgreSQL) and its arguments. The page is newest first, or oldest first
// for p.Before, which the caller reverses into the list's order.
func AuditListQuery(p store.AuditListParams, d Dialect, cols string) (string, []any) {
	w := &Where{}
	w.Add("org_id = ?", p.OrgID)
	if p.ActorAccountID != 0 {
		w.Add("actor_account_id = ?", p.ActorAccountID)
	}
	if p.Action != "" {
		w.Add("action = ?", p.Action)
	}
	if p.TargetType != "" {
		w.Add("target_type = ?", p.TargetType)
	}
	if p.TargetID != "" {
		w.Add("target_id = ?", p.TargetID)
	}
	if !p.Start.IsZero() {
		w.Add("created_at >= ?", d.Time(p.Start))
	}
	if !p.End.IsZero() {
		w.Add("created_at < ?", d.Time(p.End))
	}
	order := "DESC"
	switch {
	case p.After != nil:
		w.Add("(created_at, id) < (?, ?)", d.Time(time.UnixMicro(p.After.Key).UTC()), p.After.ID)
	case p.Before != nil:
		w.Add("(created_at, id) > (?, ?)", d.Time(time.UnixMicro(p.Before.Key).UTC()), p.Before.ID)
		order = "ASC"
	}
	return `SELECT ` + cols + ` FROM audit_log` + w.SQL() + ` ORDER BY created_at ` + order + `, id ` + order + ` LIMIT ?`,
		append(w.Args, p.Limit)
}
