DROP TABLE connections;
DROP TABLE destinations;
DROP TABLE sources;
DROP TABLE projects;
DROP TABLE memberships;
DROP TABLE orgs;
DROP TABLE api_tokens;
DROP TABLE accounts;
