package httpapi

import "testing"

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"max_retries": "max_retries", "maxRetries": "max_retries", "sourceId": "source_id",
		"sourceID": "source_id", "eventId": "event_id", "isDefault": "is_default",
		"HTTPStatus": "http_status", "ID": "id", "eps": "eps", "Name": "name", "authType": "auth_type",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
