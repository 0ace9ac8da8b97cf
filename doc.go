// Package volley is the Go client for the Volley webhook gateway API.
//
// Volley receives webhooks on per-source ingestion URLs and delivers them to
// destinations through connections, with rate limits, retries, replay and
// monitoring. This package covers the management API (organizations,
// projects, sources, destinations, connections, events and delivery
// attempts) and sending webhooks to a source's ingestion URL.
//
// Create a client with an API token:
//
//	client := volley.NewClient("your-api-token")
//
//	orgs, err := client.ListOrganizations()
//	if err != nil {
//		log.Fatal(err)
//	}
//
// # Organization context
//
// An API token can reach several organizations. Requests carry the
// X-Organization-ID header when the client has an organization ID, set with
// [WithOrganizationID] or [Client.SetOrganizationID]; without it the API uses
// the first organization the token can access.
//
// # Contexts
//
// Every method that calls the API has a variant with a Context suffix that
// takes a [context.Context] first, for cancellation and deadlines:
//
//	sources, err := client.ListSourcesContext(ctx, projectID)
//
// The variants without a context use [context.Background]. Requests are also
// bounded by the HTTP client's timeout, [DefaultTimeout] unless replaced with
// [WithHTTPClient].
//
// # Errors
//
// A response with status 400 or above, or any status but 202 from
// [Client.SendWebhook], is returned as an [*APIError] whose Status is the
// HTTP status code. It is returned as is, not wrapped, so both
// a type assertion and [errors.As] find it:
//
//	var apiErr *volley.APIError
//	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
//		// ...
//	}
//
// # Concurrency
//
// A [Client] is safe for concurrent use by multiple goroutines, including
// changes to its organization ID.
package volley
