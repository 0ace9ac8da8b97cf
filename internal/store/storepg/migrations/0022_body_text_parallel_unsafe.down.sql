ALTER FUNCTION volley_body_text(bytea) PARALLEL SAFE;
