package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// cursorAudit is the cursor kind of the audit log.
const cursorAudit = "a"

type auditJSON struct {
	ID             uint64            `json:"id"`
	OrganizationID uint64            `json:"organization_id"`
	ActorAccountID uint64            `json:"actor_account_id"`
	ActorTokenID   uint64            `json:"actor_token_id"` // 0: not a token (a console session)
	Action         string            `json:"action"`
	TargetType     string            `json:"target_type"`
	TargetID       string            `json:"target_id"`
	ClientAddress  string            `json:"client_address"`
	Changes        []auditChangeJSON `json:"changes"`
	CreatedAt      time.Time         `json:"created_at"`
}

// auditChangeJSON is one changed field. Old and New are absent when the
// field did not exist before or after, and always for a secret.
type auditChangeJSON struct {
	Field  string          `json:"field"`
	Old    json.RawMessage `json:"old,omitempty"`
	New    json.RawMessage `json:"new,omitempty"`
	Secret bool            `json:"secret"`
}

func auditOut(rec *store.AuditRecord) auditJSON {
	out := auditJSON{
		ID: rec.ID, OrganizationID: rec.OrgID, ActorAccountID: rec.ActorAccountID, ActorTokenID: rec.ActorTokenID,
		Action: rec.Action, TargetType: rec.TargetType, TargetID: rec.TargetID, ClientAddress: rec.ClientAddr,
		Changes: make([]auditChangeJSON, len(rec.Changes)), CreatedAt: rec.CreatedAt,
	}
	for i, ch := range rec.Changes {
		out.Changes[i] = auditChangeJSON{Field: ch.Field, Old: ch.Old, New: ch.New, Secret: ch.Secret}
	}
	return out
}

func auditCursor(r *auditJSON) string {
	return encodeCursor(cursorAudit, r.CreatedAt.UnixMicro(), r.ID)
}

// listAuditLog serves GET /api/audit-log: the context organization's audit
// log, newest first, for owners and admins. Filters: actor (an account
// id), action, target_type and target_id (or target as "type" or
// "type:id"), start_time and end_time; paging by limit and the after and
// before cursors. There is no offset and no total: the log only grows, and
// counting it would read all of it.
func (a *API) listAuditLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanManageMembers)
	if err != nil {
		return err
	}
	q := newQuery(r)
	p := store.AuditListParams{
		OrgID:          org.ID,
		ActorAccountID: q.id("actor"),
		Start:          q.time(false, "start_time"),
		End:            q.time(true, "end_time"),
	}
	p.Action, _ = q.str("action")
	p.TargetType, _ = q.str("target_type")
	p.TargetID, _ = q.str("target_id")
	if t, _ := q.str("target"); t != "" {
		if p.TargetType != "" || p.TargetID != "" {
			q.fail("target", "give target, or target_type and target_id, not both")
		}
		p.TargetType, p.TargetID, _ = strings.Cut(t, ":")
	}
	if !p.Start.IsZero() && !p.End.IsZero() && !p.End.After(p.Start) {
		q.fail("end_time", "must be after start_time")
	}
	if v, _ := q.str("offset"); v != "" {
		q.fail("offset", "the audit log pages by cursor only: use next_cursor with ?after=")
	}
	p.Limit, _ = q.page()
	pg := q.pageParams(cursorAudit)
	p.After, p.Before = pg.After, pg.Before
	if q.err != nil {
		return q.err
	}
	recs, err := a.cfg.Store.AuditList(r.Context(), p)
	if err != nil {
		return err
	}
	items := showAll(recs, auditOut)
	out := map[string]any{"audit_log": items, "limit": p.Limit}
	if len(items) > 0 {
		if len(items) == p.Limit || p.Before != nil {
			out["next_cursor"] = auditCursor(&items[len(items)-1])
		}
		if p.After != nil || (p.Before != nil && len(items) == p.Limit) {
			out["prev_cursor"] = auditCursor(&items[0])
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
