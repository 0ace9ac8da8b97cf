-- A destination may opt out of TLS certificate verification (self-signed
-- receivers); off unless set explicitly.
ALTER TABLE destinations ADD COLUMN insecure_skip_verify INTEGER NOT NULL DEFAULT 0;
