--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Data for Name: accounts; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

SET SESSION AUTHORIZATION DEFAULT;

ALTER TABLE volley_upgrade_fixture.accounts DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.accounts (id, email, name, password_hash, created_at) OVERRIDING SYSTEM VALUE VALUES (1, 'admin@localhost', 'Admin', '$argon2id$v=19$m=64,t=1,p=1$82R4ZQOdNeQdhygGGJDvgA$xoAjHNBh7Tu3pDabAnTA9HpMBIrSqc2zKYimNt2x7IQ', '2026-12-03 12:31:53.504768+00');


ALTER TABLE volley_upgrade_fixture.accounts ENABLE TRIGGER ALL;

--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.api_tokens DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.api_tokens (id, account_id, kind, name, hash, sealed, prefix, created_at, last_used_at, expires_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 'api', 'API token', '\xe529b69c0b14b943922cf789d1aa7401ac001e9d18c85d4f1afdb73b80ce5616', '\x01569f97cc2b3980b69ca9fd287f26559f81fe01a182cc7220176128367d02b26a15f7603c0b61ef1def97b12a18ea36512d7c49d29db92d13176569eb612dee84a096e32e', 'vk_testadm', '2026-12-03 12:31:53.504765+00', '2026-12-03 12:31:53.514665+00', NULL);
INSERT INTO volley_upgrade_fixture.api_tokens (id, account_id, kind, name, hash, sealed, prefix, created_at, last_used_at, expires_at) OVERRIDING SYSTEM VALUE VALUES (2, 1, 'api', 'fixture', '\x5c69f30bd98cae4fd500b79f140212eb743e1d087b4eb9cbad8ae3880ecb92c4', '\x01c884afa332151f6c4ec9268ca57faebde87011e3edbfbe9f47b1273b82cea3a2a8397a6486f79cf66a2d7bd685e3095a08ee51bd95e986e4b04d7273728ad979506b9ca3abcf6d', 'vk_NpOJ3Gt', '2026-12-03 12:31:53.611866+00', '0001-01-01 00:00:00+00', NULL);


ALTER TABLE volley_upgrade_fixture.api_tokens ENABLE TRIGGER ALL;

--
-- Data for Name: events; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.events DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (1, 'evt_0358Gy7GkCb0aLRTBDwHX2', 1, 1, 'POST', 'pending', '2026-12-03 12:31:53.625163+00', 'evt_fixture_00', '19137');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (4, 'evt_0358Gy7Jcd8MUDuNMY6icV', 1, 1, 'POST', 'pending', '2026-12-03 12:31:53.655949+00', 'evt_fixture_03', '19141');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (2, 'evt_0358Gy7HlKAOYolRJMhufV', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.636207+00', 'evt_fixture_01', '19138');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (3, 'evt_0358Gy7J8U50rQC5YvmRpx', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.650033+00', 'evt_fixture_02', '19140');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (5, 'evt_0358Gy7KjnTEo4GU7DVIO6', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.666439+00', 'evt_fixture_04', '19143');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (7, 'evt_0358Gy7MXanYN5GPxVJtYb', 1, 1, 'POST', 'pending', '2026-12-03 12:31:53.685864+00', 'evt_fixture_06', '19146');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (6, 'evt_0358Gy7LKZmaCBBieX886s', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.672694+00', 'evt_fixture_05', '19144');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (10, 'evt_0358Gy7OuA6Upq88GNrpbH', 1, 1, 'POST', 'pending', '2026-12-03 12:31:53.709824+00', 'evt_fixture_09', '19152');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (8, 'evt_0358Gy7NMu55NJDv0AtwpZ', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.693703+00', 'evt_fixture_07', '19149');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (9, 'evt_0358Gy7OnMemZgKJC7F6Xu', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.708192+00', 'evt_fixture_08', '19151');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (13, 'evt_0358Gy7PcS9wI9KH9VKLHy', 1, 1, 'POST', 'pending', '2026-12-03 12:31:53.716121+00', NULL, '19157');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (11, 'evt_0358Gy7P73gSTQsIo5NA96', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.711931+00', 'evt_fixture_10', '19153');
INSERT INTO volley_upgrade_fixture.events (id, event_id, project_id, source_id, method, status, created_at, external_id, commit_xid) OVERRIDING SYSTEM VALUE VALUES (12, 'evt_0358Gy7PHHD49elXn1VLCA', 1, 1, 'POST', 'processed', '2026-12-03 12:31:53.713443+00', 'evt_fixture_11', '19154');


ALTER TABLE volley_upgrade_fixture.events ENABLE TRIGGER ALL;

--
-- Data for Name: attempts; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.attempts DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 1, 'evt_0358Gy7GkCb0aLRTBDwHX2', 1, 1, 1, 1, 1, 'auto', 'failed', 500, 'HTTP 500', 1, '{"Content-Length":["7"],"Content-Type":["text/plain; charset=utf-8"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"],"X-Content-Type-Options":["nosniff"]}', '\x6e6f74206f6b0a', '2026-12-03 12:31:53.635597+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (2, 2, 2, 'evt_0358Gy7HlKAOYolRJMhufV', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.64947+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (3, 3, 3, 'evt_0358Gy7J8U50rQC5YvmRpx', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.655563+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (4, 4, 4, 'evt_0358Gy7Jcd8MUDuNMY6icV', 1, 1, 1, 1, 1, 'auto', 'failed', 500, 'HTTP 500', 0, '{"Content-Length":["7"],"Content-Type":["text/plain; charset=utf-8"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"],"X-Content-Type-Options":["nosniff"]}', '\x6e6f74206f6b0a', '2026-12-03 12:31:53.665915+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (5, 5, 5, 'evt_0358Gy7KjnTEo4GU7DVIO6', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.672254+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (6, 6, 6, 'evt_0358Gy7LKZmaCBBieX886s', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.685474+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (7, 7, 7, 'evt_0358Gy7MXanYN5GPxVJtYb', 1, 1, 1, 1, 1, 'auto', 'failed', 500, 'HTTP 500', 0, '{"Content-Length":["7"],"Content-Type":["text/plain; charset=utf-8"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"],"X-Content-Type-Options":["nosniff"]}', '\x6e6f74206f6b0a', '2026-12-03 12:31:53.693272+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (8, 8, 8, 'evt_0358Gy7NMu55NJDv0AtwpZ', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.707704+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (9, 9, 9, 'evt_0358Gy7OnMemZgKJC7F6Xu', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.709335+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (10, 10, 10, 'evt_0358Gy7OuA6Upq88GNrpbH', 1, 1, 1, 1, 1, 'auto', 'failed', 500, 'HTTP 500', 0, '{"Content-Length":["7"],"Content-Type":["text/plain; charset=utf-8"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"],"X-Content-Type-Options":["nosniff"]}', '\x6e6f74206f6b0a', '2026-12-03 12:31:53.711474+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (11, 11, 11, 'evt_0358Gy7P73gSTQsIo5NA96', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.712982+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (12, 12, 12, 'evt_0358Gy7PHHD49elXn1VLCA', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 0, '{"Content-Length":["0"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"]}', '\x', '2026-12-03 12:31:53.715751+00');
INSERT INTO volley_upgrade_fixture.attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at) OVERRIDING SYSTEM VALUE VALUES (13, 13, 13, 'evt_0358Gy7PcS9wI9KH9VKLHy', 1, 1, 1, 1, 1, 'auto', 'failed', 500, 'HTTP 500', 0, '{"Content-Length":["7"],"Content-Type":["text/plain; charset=utf-8"],"Date":["Thu, 03 Dec 2026 12:31:53 GMT"],"X-Content-Type-Options":["nosniff"]}', '\x6e6f74206f6b0a', '2026-12-03 12:31:53.725825+00');


ALTER TABLE volley_upgrade_fixture.attempts ENABLE TRIGGER ALL;

--
-- Data for Name: connection_backlog; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.connection_backlog DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 4, 0);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 7, 2);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 0, 2);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 1, 1);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 2, 3);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 3, -2);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 5, 3);
INSERT INTO volley_upgrade_fixture.connection_backlog (connection_id, shard, n) VALUES (1, 6, -4);


ALTER TABLE volley_upgrade_fixture.connection_backlog ENABLE TRIGGER ALL;

--
-- Data for Name: connection_latency; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.connection_latency DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.connection_latency (connection_id, minute, bucket_ms, shard, n) VALUES (1, '2026-12-03 12:31:00+00', 1, 1, 1);
INSERT INTO volley_upgrade_fixture.connection_latency (connection_id, minute, bucket_ms, shard, n) VALUES (1, '2026-12-03 12:31:00+00', 1, 4, 1);
INSERT INTO volley_upgrade_fixture.connection_latency (connection_id, minute, bucket_ms, shard, n) VALUES (1, '2026-12-03 12:31:00+00', 1, 3, 2);
INSERT INTO volley_upgrade_fixture.connection_latency (connection_id, minute, bucket_ms, shard, n) VALUES (1, '2026-12-03 12:31:00+00', 1, 6, 4);


ALTER TABLE volley_upgrade_fixture.connection_latency ENABLE TRIGGER ALL;

--
-- Data for Name: connection_minutes; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.connection_minutes DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 4, 1, 1, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 7, 2, 0, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 0, 2, 0, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 1, 2, 1, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 2, 3, 0, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 3, 0, 2, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 5, 3, 0, 0);
INSERT INTO volley_upgrade_fixture.connection_minutes (connection_id, minute, shard, routed, delivered, failed) VALUES (1, '2026-12-03 12:31:00+00', 6, 0, 4, 0);


ALTER TABLE volley_upgrade_fixture.connection_minutes ENABLE TRIGGER ALL;

--
-- Data for Name: orgs; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.orgs DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.orgs (id, name, slug, account_id, created_at) OVERRIDING SYSTEM VALUE VALUES (1, 'Admin''s organization', 'admins-organization', 1, '2026-12-03 12:31:53.504768+00');


ALTER TABLE volley_upgrade_fixture.orgs ENABLE TRIGGER ALL;

--
-- Data for Name: projects; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.projects DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.projects (id, org_id, name, is_default, created_at, updated_at, account_id) OVERRIDING SYSTEM VALUE VALUES (1, 1, 'Default', true, '2026-12-03 12:31:53.504768+00', '2026-12-03 12:31:53.504768+00', 1);


ALTER TABLE volley_upgrade_fixture.projects ENABLE TRIGGER ALL;

--
-- Data for Name: destinations; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.destinations DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.destinations (id, project_id, name, url, eps, status, timeout_ms, headers, signing_secret, prev_signing_secret, prev_secret_expires_at, created_at, updated_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 'billing', 'http://127.0.0.1:41209', 0, 'active', 0, '{}', '\x01ff4f253798732ff597848e3df25418357f4562c358177a50a786fa38b366ab96f1e127c54810f70246ba8cc4e10ca19e3eb9cea0497b30db0f00979762ce3376a44d', NULL, '0001-01-01 00:00:00+00', '2026-12-03 12:31:53.585238+00', '2026-12-03 12:31:53.585238+00');


ALTER TABLE volley_upgrade_fixture.destinations ENABLE TRIGGER ALL;

--
-- Data for Name: sources; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.sources DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.sources (id, project_id, name, slug, ingestion_id, type, eps, status, auth_type, auth_username, auth_key_name, auth_key, verify_signature, webhook_secret, hmac_header, hmac_algorithm, hmac_encoding, hmac_prefix, created_at, updated_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 'stripe', 'stripe', 'src_1parZEZp0tP4Q0qV6L2vLO', 'webhook', 0, 'active', 'api_key', '', 'X-API-Key', '\x01bbf718d8f3e8c389e4148229efa5e0a0fa9a3226542194c47db09884ecadd8cfe5c3561eb0c37e27febfc2fcd1e11ca8ecf21a03c2040d7bc84a9a811078bbfc7b14b10d', false, NULL, '', '', '', '', '2026-12-03 12:31:53.572917+00', '2026-12-03 12:31:53.572917+00');


ALTER TABLE volley_upgrade_fixture.sources ENABLE TRIGGER ALL;

--
-- Data for Name: connections; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.connections DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.connections (id, project_id, source_id, destination_id, name, status, eps, max_retries, created_at, updated_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 1, 1, 'stripe → billing', 'enabled', 0, 5, '2026-12-03 12:31:53.601507+00', '2026-12-03 12:31:53.601507+00');


ALTER TABLE volley_upgrade_fixture.connections ENABLE TRIGGER ALL;

--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.deliveries DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 1, 1, 1, 1, 'pending', 1, '2026-12-03 13:31:53.637227+00', '', 1, '2026-12-03 12:31:53.625163+00', '0001-01-01 00:00:00+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (2, 2, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.636207+00', '2026-12-03 12:31:53.649952+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (3, 3, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.650033+00', '2026-12-03 12:31:53.655887+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (4, 4, 1, 1, 1, 1, 'pending', 1, '2026-12-03 13:31:53.666367+00', '', 1, '2026-12-03 12:31:53.655949+00', '0001-01-01 00:00:00+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (5, 5, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.666439+00', '2026-12-03 12:31:53.672631+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (6, 6, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.672694+00', '2026-12-03 12:31:53.689579+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (7, 7, 1, 1, 1, 1, 'pending', 1, '2026-12-03 13:31:53.69363+00', '', 1, '2026-12-03 12:31:53.685864+00', '0001-01-01 00:00:00+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (8, 8, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.693703+00', '2026-12-03 12:31:53.70812+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (9, 9, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.708192+00', '2026-12-03 12:31:53.709737+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (10, 10, 1, 1, 1, 1, 'pending', 1, '2026-12-03 13:31:53.711836+00', '', 1, '2026-12-03 12:31:53.709824+00', '0001-01-01 00:00:00+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (11, 11, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.711931+00', '2026-12-03 12:31:53.713382+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (12, 12, 1, 1, 1, 1, 'success', 1, '0001-01-01 00:00:00+00', '', 1, '2026-12-03 12:31:53.713443+00', '2026-12-03 12:31:53.716066+00');
INSERT INTO volley_upgrade_fixture.deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts, next_attempt_at, lease_owner, lease_token, created_at, finished_at) OVERRIDING SYSTEM VALUE VALUES (13, 13, 1, 1, 1, 1, 'pending', 1, '2026-12-03 13:31:53.726256+00', '', 1, '2026-12-03 12:31:53.716121+00', '0001-01-01 00:00:00+00');


ALTER TABLE volley_upgrade_fixture.deliveries ENABLE TRIGGER ALL;

--
-- Data for Name: delivery_sweeps; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.delivery_sweeps DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.delivery_sweeps ENABLE TRIGGER ALL;

--
-- Data for Name: device_codes; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.device_codes DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.device_codes ENABLE TRIGGER ALL;

--
-- Data for Name: event_payloads; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.event_payloads DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (1, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["92"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3030222c2274797065223a22696e766f6963652e70616964222c226f6b223a66616c73652c22616d6f756e74223a302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (2, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["93"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3031222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a3130302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (3, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["93"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3032222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a3230302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (4, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["94"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3033222c2274797065223a22696e766f6963652e70616964222c226f6b223a66616c73652c22616d6f756e74223a3330302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (5, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["93"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3034222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a3430302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (6, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["93"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3035222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a3530302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (7, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["94"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3036222c2274797065223a22696e766f6963652e70616964222c226f6b223a66616c73652c22616d6f756e74223a3630302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (8, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["93"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3037222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a3730302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (9, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["93"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3038222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a3830302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (10, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["94"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3039222c2274797065223a22696e766f6963652e70616964222c226f6b223a66616c73652c22616d6f756e74223a3930302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (11, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["94"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3130222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a313030302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (12, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["94"],"User-Agent":["Go-http-client/1.1"]}', '\x7b226964223a226576745f666978747572655f3131222c2274797065223a22696e766f6963652e70616964222c226f6b223a747275652c22616d6f756e74223a313130302c226e6f7465223a22757067726164652066697874757265227d');
INSERT INTO volley_upgrade_fixture.event_payloads (event_id, query, headers, body) VALUES (13, '\x', '{"Accept-Encoding":["gzip"],"Content-Length":["7"],"User-Agent":["Go-http-client/1.1"]}', '\xfffe62696e0080');


ALTER TABLE volley_upgrade_fixture.event_payloads ENABLE TRIGGER ALL;

--
-- Data for Name: idempotency_keys; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.idempotency_keys DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.idempotency_keys ENABLE TRIGGER ALL;

--
-- Data for Name: invitations; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.invitations DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.invitations ENABLE TRIGGER ALL;

--
-- Data for Name: memberships; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.memberships DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.memberships (org_id, account_id, role, created_at) VALUES (1, 1, 'owner', '2026-12-03 12:31:53.504768+00');


ALTER TABLE volley_upgrade_fixture.memberships ENABLE TRIGGER ALL;

--
-- Data for Name: nodes; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.nodes DISABLE TRIGGER ALL;

INSERT INTO volley_upgrade_fixture.nodes (owner, heartbeat_at, started_at) VALUES ('vm/21546/S79C78', '2026-12-03 12:31:53.511218+00', '2026-12-03 12:31:53.511218+00');


ALTER TABLE volley_upgrade_fixture.nodes ENABLE TRIGGER ALL;

--
-- Data for Name: project_tombstones; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.project_tombstones DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.project_tombstones ENABLE TRIGGER ALL;

--
-- Data for Name: rate_slots; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.rate_slots DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.rate_slots ENABLE TRIGGER ALL;

--
-- Data for Name: sessions; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.sessions DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.sessions ENABLE TRIGGER ALL;

--
-- Data for Name: source_rate; Type: TABLE DATA; Schema: volley_upgrade_fixture; Owner: -
--

ALTER TABLE volley_upgrade_fixture.source_rate DISABLE TRIGGER ALL;



ALTER TABLE volley_upgrade_fixture.source_rate ENABLE TRIGGER ALL;

--
-- Name: accounts_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.accounts_id_seq', 1, true);


--
-- Name: api_tokens_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.api_tokens_id_seq', 2, true);


--
-- Name: attempts_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.attempts_id_seq', 13, true);


--
-- Name: connections_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.connections_id_seq', 1, true);


--
-- Name: deliveries_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.deliveries_id_seq', 13, true);


--
-- Name: destinations_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.destinations_id_seq', 1, true);


--
-- Name: device_codes_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.device_codes_id_seq', 1, false);


--
-- Name: events_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.events_id_seq', 13, true);


--
-- Name: invitations_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.invitations_id_seq', 1, false);


--
-- Name: orgs_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.orgs_id_seq', 1, true);


--
-- Name: projects_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.projects_id_seq', 1, true);


--
-- Name: sessions_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.sessions_id_seq', 1, false);


--
-- Name: sources_id_seq; Type: SEQUENCE SET; Schema: volley_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('volley_upgrade_fixture.sources_id_seq', 1, true);


--
-- PostgreSQL database dump complete
--


