package volley

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// SendWebhook sends a webhook to a source.
// The sourceID is the ingestion ID provided when you create a source
// (Source.IngestionID). The payload is sent as JSON; a []byte or
// json.RawMessage payload is sent as is. It returns the event ID the source
// assigned, once the webhook has been accepted (HTTP 202).
//
// Ingestion is not authenticated with the API token, so neither it nor the
// organization ID is sent. For a source with its own authentication, add the
// credentials with an http.Client whose Transport sets them (WithHTTPClient).
func (c *Client) SendWebhook(sourceID string, payload interface{}) (string, error) {
	return c.SendWebhookContext(context.Background(), sourceID, payload)
}

// SendWebhookContext is SendWebhook with a context.
func (c *Client) SendWebhookContext(ctx context.Context, sourceID string, payload interface{}) (string, error) {
	if sourceID == "" {
		return "", errors.New("volley: send webhook: empty source ID")
	}
	var body []byte
	switch p := payload.(type) {
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return "", fmt.Errorf("volley: encode payload: %w", err)
		}
		body = b
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/hook/"+url.PathEscape(sourceID), nil, body)
	if err != nil {
		return "", err
	}
	var resp struct {
		EventID string `json:"event_id"`
	}
	if err := c.send(req, http.StatusAccepted, &resp); err != nil {
		return "", err
	}
	if resp.EventID == "" {
		return "", errors.New("volley: decode response: no event_id")
	}
	return resp.EventID, nil
}
