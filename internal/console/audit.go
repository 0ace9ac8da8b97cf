package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// audit records what a person did on these pages (signing in, failing to,
// answering a CLI login, changing a password) to an account (target) in the audit log of every
// organization of the account, whose owners and admins read it. actor is
// the account acting, 0 when unknown (a failed sign-in: whoever typed the
// password is not known to be the account's owner). An action on no known account
// (a sign-in with an unknown email) goes in the log of no organization
// (org 0), which only the operator reads. The typed email is not kept: a
// password typed into the wrong field must not end up in the log. A
// failure to record is logged, not shown: the action itself stands.
func (c *Console) audit(r *http.Request, actor, accountID uint64, action string, changes ...store.AuditChange) {
	orgs := []uint64{0}
	target := "unknown"
	if accountID != 0 {
		target = strconv.FormatUint(accountID, 10)
		ms, err := c.cfg.Store.OrgList(r.Context(), accountID)
		if err != nil {
			c.cfg.Logger.ErrorContext(r.Context(), "audit log: list organizations", "account_id", accountID, "err", err)
		}
		if len(ms) > 0 {
			orgs = orgs[:0]
			for _, m := range ms {
				orgs = append(orgs, m.ID)
			}
		}
	}
	c.writeAudit(r, orgs, actor, action, "account", target, changes)
}

// auditJoin records that an account joined an organization through an
// invitation, in that organization's log.
func (c *Console) auditJoin(r *http.Request, m *volley.Member, orgID uint64) {
	role, _ := json.Marshal(m.Role) // a string always encodes
	c.writeAudit(r, []uint64{orgID}, m.AccountID, "member.create", "member", strconv.FormatUint(m.AccountID, 10),
		[]store.AuditChange{{Field: "role", New: role}, {Field: "via", New: json.RawMessage(`"invitation"`)}})
}

// writeAudit stores one record per organization.
func (c *Console) writeAudit(r *http.Request, orgs []uint64, actor uint64, action, targetType, target string, changes []store.AuditChange) {
	now := time.Now().UTC()
	if c.cfg.NowFunc != nil {
		now = c.cfg.NowFunc().UTC()
	}
	recs := make([]store.AuditRecord, len(orgs))
	for i, org := range orgs {
		recs[i] = store.AuditRecord{OrgID: org, ActorAccountID: actor, Action: action, TargetType: targetType,
			TargetID: target, ClientAddr: c.clientAddr(r), Changes: changes, CreatedAt: now}
	}
	if err := c.cfg.Audit.AuditInsert(r.Context(), recs); err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "audit log: write records", "action", action, "err", err)
	}
}

// deviceName is the change entry of a CLI login's device name.
func deviceName(name string) store.AuditChange {
	b, _ := json.Marshal(name) // a string always encodes
	return store.AuditChange{Field: "device_name", New: b}
}

// accountOf returns the id of the account an email names, or 0.
func (c *Console) accountOf(r *http.Request, email string) uint64 {
	email, err := volley.NormalizeEmail(email)
	if err != nil {
		return 0
	}
	a, err := c.cfg.Store.AccountGetByEmail(r.Context(), email)
	if err != nil {
		return 0
	}
	return a.ID
}
