-- The account that created each project (no foreign key, like
-- orgs.account_id). Who created an existing project was never recorded: it
-- gets its organization's creator.
ALTER TABLE projects ADD COLUMN account_id bigint;
UPDATE projects p SET account_id = o.account_id FROM orgs o WHERE o.id = p.org_id;
ALTER TABLE projects ALTER COLUMN account_id SET NOT NULL;
