-- The audit log: who changed what, when and from where. No foreign keys: a
-- record outlives the organization, account or token it names. Every list
-- filter has an index that starts with the organization and ends in the
-- list's order (created_at, id), so a page reads only the rows it shows;
-- created_at alone serves the retention sweep.
CREATE TABLE audit_log (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           bigint      NOT NULL, -- 0: no organization
    actor_account_id bigint      NOT NULL, -- 0: unknown
    actor_token_id   bigint      NOT NULL, -- 0: none (console session)
    action           text        NOT NULL,
    target_type      text        NOT NULL,
    target_id        text        NOT NULL,
    client_addr      text        NOT NULL,
    changes          text        NOT NULL, -- JSON array of {field, old, new, secret}
    created_at       timestamptz NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, created_at, id);
CREATE INDEX audit_log_org_actor ON audit_log (org_id, actor_account_id, created_at, id);
CREATE INDEX audit_log_org_action ON audit_log (org_id, action, created_at, id);
CREATE INDEX audit_log_org_target ON audit_log (org_id, target_type, target_id, created_at, id);
CREATE INDEX audit_log_org_target_id ON audit_log (org_id, target_id, created_at, id);
CREATE INDEX audit_log_created ON audit_log (created_at);
