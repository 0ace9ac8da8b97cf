DELETE FROM event_states WHERE status = 'processed';
ALTER TABLE event_states ADD CONSTRAINT event_states_status_check CHECK (status <> 'processed');
