package volley_test

// This file pins the exported API of v1.0.1 (the seed): every identifier it
// declared must keep its exact signature, field types and JSON tags. It
// compiles only while that holds; the runtime tests cover what the compiler
// cannot see (tags and constant values).

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

// Constants, and that they stay constants.
const (
	_ = volley.DefaultBaseURL
	_ = volley.DefaultTimeout
	_ = volley.Version
)

var (
	_ string        = volley.DefaultBaseURL
	_ time.Duration = volley.DefaultTimeout
	_ string        = volley.Version
)

// Constructor and options.
var (
	_ func(string, ...volley.ClientOption) *volley.Client = volley.NewClient
	_ func(string) volley.ClientOption                    = volley.WithBaseURL
	_ func(*http.Client) volley.ClientOption              = volley.WithHTTPClient
	_ func(uint64) volley.ClientOption                    = volley.WithOrganizationID

	_ volley.ClientOption  = func(*volley.Client) {}
	_ func(*volley.Client) = volley.ClientOption(nil)
)

// APIError.
var (
	_ error                         = (*volley.APIError)(nil)
	_ func(*volley.APIError) string = (*volley.APIError).Error
)

// Client methods of v1.0.1.
var (
	_ func(*volley.Client) string  = (*volley.Client).BaseURL
	_ func(*volley.Client)         = (*volley.Client).ClearOrganizationID
	_ func(*volley.Client) *uint64 = (*volley.Client).OrganizationID
	_ func(*volley.Client, uint64) = (*volley.Client).SetOrganizationID

	_ func(*volley.Client) ([]volley.Organization, error)                                                             = (*volley.Client).ListOrganizations
	_ func(*volley.Client, *uint64) (*volley.Organization, error)                                                     = (*volley.Client).GetOrganization
	_ func(*volley.Client, volley.CreateOrganizationRequest) (*volley.Organization, error)                            = (*volley.Client).CreateOrganization
	_ func(*volley.Client) ([]volley.Project, error)                                                                  = (*volley.Client).ListProjects
	_ func(*volley.Client, volley.CreateProjectRequest) (*volley.Project, error)                                      = (*volley.Client).CreateProject
	_ func(*volley.Client, uint64, volley.UpdateProjectRequest) (*volley.Project, error)                              = (*volley.Client).UpdateProject
	_ func(*volley.Client, uint64) error                                                                              = (*volley.Client).DeleteProject
	_ func(*volley.Client, uint64) ([]volley.Source, error)                                                           = (*volley.Client).ListSources
	_ func(*volley.Client, uint64, volley.CreateSourceRequest) (*volley.Source, error)                                = (*volley.Client).CreateSource
	_ func(*volley.Client, uint64) (*volley.Source, error)                                                            = (*volley.Client).GetSource
	_ func(*volley.Client, uint64, volley.UpdateSourceRequest) (*volley.Source, error)                                = (*volley.Client).UpdateSource
	_ func(*volley.Client, uint64) error                                                                              = (*volley.Client).DeleteSource
	_ func(*volley.Client, uint64) ([]volley.Destination, error)                                                      = (*volley.Client).ListDestinations
	_ func(*volley.Client, uint64, volley.CreateDestinationRequest) (*volley.Destination, error)                      = (*volley.Client).CreateDestination
	_ func(*volley.Client, uint64) (*volley.Destination, error)                                                       = (*volley.Client).GetDestination
	_ func(*volley.Client, uint64, volley.UpdateDestinationRequest) (*volley.Destination, error)                      = (*volley.Client).UpdateDestination
	_ func(*volley.Client, uint64) error                                                                              = (*volley.Client).DeleteDestination
	_ func(*volley.Client, uint64) ([]volley.Connection, error)                                                       = (*volley.Client).GetConnections
	_ func(*volley.Client, uint64, volley.CreateConnectionRequest) (*volley.Connection, error)                        = (*volley.Client).CreateConnection
	_ func(*volley.Client, uint64) (*volley.Connection, error)                                                        = (*volley.Client).GetConnection
	_ func(*volley.Client, uint64, volley.UpdateConnectionRequest) (*volley.Connection, error)                        = (*volley.Client).UpdateConnection
	_ func(*volley.Client, uint64) error                                                                              = (*volley.Client).DeleteConnection
	_ func(*volley.Client, uint64, *volley.ListEventsOptions) (*volley.ListEventsResponse, error)                     = (*volley.Client).ListEvents
	_ func(*volley.Client, uint64) (*volley.Event, error)                                                             = (*volley.Client).GetEvent
	_ func(*volley.Client, volley.ReplayEventRequest) (*volley.ReplayEventResponse, error)                            = (*volley.Client).ReplayEvent
	_ func(*volley.Client, uint64, *volley.ListDeliveryAttemptsOptions) (*volley.ListDeliveryAttemptsResponse, error) = (*volley.Client).ListDeliveryAttempts
	_ func(*volley.Client, string, interface{}) (string, error)                                                       = (*volley.Client).SendWebhook
)

// Structs of v1.0.1, every field with a value of its exact type. Adding a
// field keeps these compiling; removing, renaming or retyping one does not.
var (
	_ = volley.APIError{ErrorMsg: string(""), Message: string(""), Status: int(0)}

	_ = volley.Organization{
		ID: uint64(0), Name: string(""), Slug: string(""), AccountID: uint64(0),
		Role: string(""), CreatedAt: time.Time{},
	}
	_ = volley.CreateOrganizationRequest{Name: string("")}

	_ = volley.Project{
		ID: uint64(0), Name: string(""), OrganizationID: uint64(0), IsDefault: bool(false),
		CreatedAt: time.Time{}, UpdatedAt: time.Time{},
	}
	_ = volley.CreateProjectRequest{Name: string(""), IsDefault: bool(false)}
	_ = volley.UpdateProjectRequest{Name: string("")}

	_ = volley.Source{
		ID: uint64(0), Slug: string(""), IngestionID: string(""), Type: string(""),
		EPS: int(0), Status: string(""), ConnectionCount: int64(0), AuthType: string(""),
		VerifySignature: bool(false), WebhookSecretSet: bool(false),
		AuthUsername: string(""), AuthKeyName: string(""),
		CreatedAt: time.Time{}, UpdatedAt: time.Time{},
	}
	_ = volley.CreateSourceRequest{Name: string(""), EPS: int(0), AuthType: string("")}
	_ = volley.UpdateSourceRequest{Name: string(""), EPS: (*int)(nil), AuthType: string(""), Status: string("")}

	_ = volley.Destination{
		ID: uint64(0), Name: string(""), URL: string(""), EPS: int(0), Status: string(""),
		CreatedAt: time.Time{}, UpdatedAt: time.Time{},
	}
	_ = volley.CreateDestinationRequest{Name: string(""), URL: string(""), EPS: int(0)}
	_ = volley.UpdateDestinationRequest{Name: string(""), URL: string(""), EPS: (*int)(nil), Status: string("")}

	_ = volley.Connection{
		ID: uint64(0), SourceID: uint64(0), DestinationID: uint64(0), Status: string(""),
		EPS: int(0), MaxRetries: int(0), CreatedAt: time.Time{}, UpdatedAt: time.Time{},
	}
	_ = volley.CreateConnectionRequest{
		SourceID: uint64(0), DestinationID: uint64(0), Status: string(""), EPS: int(0), MaxRetries: int(0),
	}
	_ = volley.UpdateConnectionRequest{Status: string(""), EPS: (*int)(nil), MaxRetries: (*int)(nil)}

	_ = volley.Event{
		ID: uint64(0), EventID: string(""), SourceID: uint64(0), ProjectID: uint64(0),
		RawBody: string(""), Headers: map[string]interface{}(nil), Status: string(""),
		DeliveryAttempts: []volley.DeliveryAttempt(nil), CreatedAt: time.Time{},
	}
	_ = volley.DeliveryAttempt{
		ID: uint64(0), EventID: string(""), ConnectionID: uint64(0), Status: string(""),
		StatusCode: int(0), ErrorReason: string(""), DurationMs: int64(0), CreatedAt: time.Time{},
	}
	_ = volley.PaginatedResponse{Total: int64(0), Limit: int(0), Offset: int(0)}
	_ = volley.ListEventsOptions{
		SourceID: (*uint64)(nil), ConnectionID: (*uint64)(nil), DestinationID: (*uint64)(nil),
		Status: string(""), StartTime: (*time.Time)(nil), EndTime: (*time.Time)(nil),
		Search: string(""), Limit: (*int)(nil), Offset: (*int)(nil),
	}
	_ = volley.ListEventsResponse{
		PaginatedResponse: volley.PaginatedResponse{}, Requests: []volley.Event(nil),
	}
	_ = volley.ListDeliveryAttemptsOptions{
		EventID: string(""), SourceID: (*uint64)(nil), DestinationID: (*uint64)(nil),
		ConnectionID: (*uint64)(nil), Status: string(""), StartTime: (*time.Time)(nil),
		EndTime: (*time.Time)(nil), Sort: string(""), Limit: (*int)(nil), Offset: (*int)(nil),
	}
	_ = volley.ListDeliveryAttemptsResponse{
		PaginatedResponse: volley.PaginatedResponse{}, Attempts: []volley.DeliveryAttempt(nil),
	}
	_ = volley.ReplayEventRequest{EventID: string(""), DestinationID: (*uint64)(nil), ConnectionID: (*uint64)(nil)}
	_ = volley.ReplayEventResponse{
		Success: bool(false), Status: string(""), StatusCode: int(0), ErrorReason: string(""),
		DurationMs: int64(0), AttemptID: uint64(0),
	}

	// The paginated fields are promoted, as in v1.0.1.
	_ int64 = volley.ListEventsResponse{}.Total
	_ int   = volley.ListDeliveryAttemptsResponse{}.Offset
)

// Additions beyond v1.0.1, pinned the same way.
var (
	_ func(*volley.Client, context.Context) ([]volley.Organization, error)                                                             = (*volley.Client).ListOrganizationsContext
	_ func(*volley.Client, context.Context, *uint64) (*volley.Organization, error)                                                     = (*volley.Client).GetOrganizationContext
	_ func(*volley.Client, context.Context, volley.CreateOrganizationRequest) (*volley.Organization, error)                            = (*volley.Client).CreateOrganizationContext
	_ func(*volley.Client, context.Context) ([]volley.Project, error)                                                                  = (*volley.Client).ListProjectsContext
	_ func(*volley.Client, context.Context, volley.CreateProjectRequest) (*volley.Project, error)                                      = (*volley.Client).CreateProjectContext
	_ func(*volley.Client, context.Context, uint64, volley.UpdateProjectRequest) (*volley.Project, error)                              = (*volley.Client).UpdateProjectContext
	_ func(*volley.Client, context.Context, uint64) error                                                                              = (*volley.Client).DeleteProjectContext
	_ func(*volley.Client, context.Context, uint64) ([]volley.Source, error)                                                           = (*volley.Client).ListSourcesContext
	_ func(*volley.Client, context.Context, uint64, volley.CreateSourceRequest) (*volley.Source, error)                                = (*volley.Client).CreateSourceContext
	_ func(*volley.Client, context.Context, uint64) (*volley.Source, error)                                                            = (*volley.Client).GetSourceContext
	_ func(*volley.Client, context.Context, uint64, volley.UpdateSourceRequest) (*volley.Source, error)                                = (*volley.Client).UpdateSourceContext
	_ func(*volley.Client, context.Context, uint64) error                                                                              = (*volley.Client).DeleteSourceContext
	_ func(*volley.Client, context.Context, uint64) ([]volley.Destination, error)                                                      = (*volley.Client).ListDestinationsContext
	_ func(*volley.Client, context.Context, uint64, volley.CreateDestinationRequest) (*volley.Destination, error)                      = (*volley.Client).CreateDestinationContext
	_ func(*volley.Client, context.Context, uint64) (*volley.Destination, error)                                                       = (*volley.Client).GetDestinationContext
	_ func(*volley.Client, context.Context, uint64, volley.UpdateDestinationRequest) (*volley.Destination, error)                      = (*volley.Client).UpdateDestinationContext
	_ func(*volley.Client, context.Context, uint64) error                                                                              = (*volley.Client).DeleteDestinationContext
	_ func(*volley.Client, context.Context, uint64) ([]volley.Connection, error)                                                       = (*volley.Client).GetConnectionsContext
	_ func(*volley.Client, context.Context, uint64, volley.CreateConnectionRequest) (*volley.Connection, error)                        = (*volley.Client).CreateConnectionContext
	_ func(*volley.Client, context.Context, uint64) (*volley.Connection, error)                                                        = (*volley.Client).GetConnectionContext
	_ func(*volley.Client, context.Context, uint64, volley.UpdateConnectionRequest) (*volley.Connection, error)                        = (*volley.Client).UpdateConnectionContext
	_ func(*volley.Client, context.Context, uint64) error                                                                              = (*volley.Client).DeleteConnectionContext
	_ func(*volley.Client, context.Context, uint64, *volley.ListEventsOptions) (*volley.ListEventsResponse, error)                     = (*volley.Client).ListEventsContext
	_ func(*volley.Client, context.Context, uint64) (*volley.Event, error)                                                             = (*volley.Client).GetEventContext
	_ func(*volley.Client, context.Context, volley.ReplayEventRequest) (*volley.ReplayEventResponse, error)                            = (*volley.Client).ReplayEventContext
	_ func(*volley.Client, context.Context, uint64, *volley.ListDeliveryAttemptsOptions) (*volley.ListDeliveryAttemptsResponse, error) = (*volley.Client).ListDeliveryAttemptsContext
	_ func(*volley.Client, context.Context, string, interface{}) (string, error)                                                       = (*volley.Client).SendWebhookContext

	_ = volley.Connection{Metrics: (*volley.ConnectionMetrics)(nil)}
	_ = volley.ConnectionMetrics{
		EventsRouted: int64(0), Delivered: int64(0), Failed: int64(0), Pending: int64(0),
		SuccessRate: float64(0), LatencyP50Ms: int64(0), LatencyP95Ms: int64(0),
		LastDeliveryAt: (*time.Time)(nil),
	}
)

func TestConstants(t *testing.T) {
	t.Parallel()
	if got, want := volley.DefaultBaseURL, "https://api.volleyhooks.com"; got != want {
		t.Errorf("DefaultBaseURL = %q, want %q", got, want)
	}
	if got, want := volley.DefaultTimeout, 30*time.Second; got != want {
		t.Errorf("DefaultTimeout = %v, want %v", got, want)
	}
	// An untyped constant would default to int here.
	if got, want := reflect.TypeOf(volley.DefaultTimeout), reflect.TypeFor[time.Duration](); got != want {
		t.Errorf("DefaultTimeout has type %v, want %v", got, want)
	}
	if got, want := volley.Version, "1.0.1"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
}

// TestJSONTags checks the JSON tag of every field of v1.0.1, plus the
// additions. An empty tag means the field has none.
func TestJSONTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ  reflect.Type
		tags map[string]string // field name -> json tag
	}{
		{reflect.TypeFor[volley.APIError](), map[string]string{
			"ErrorMsg": "error", "Message": "message,omitempty", "Status": "-",
		}},
		{reflect.TypeFor[volley.Organization](), map[string]string{
			"ID": "id", "Name": "name", "Slug": "slug", "AccountID": "account_id",
			"Role": "role", "CreatedAt": "created_at",
		}},
		{reflect.TypeFor[volley.CreateOrganizationRequest](), map[string]string{"Name": "name"}},
		{reflect.TypeFor[volley.Project](), map[string]string{
			"ID": "id", "Name": "name", "OrganizationID": "organization_id",
			"IsDefault": "is_default", "CreatedAt": "created_at", "UpdatedAt": "updated_at",
			"UserID": "user_id,omitempty",
		}},
		{reflect.TypeFor[volley.CreateProjectRequest](), map[string]string{
			"Name": "name", "IsDefault": "is_default,omitempty",
		}},
		{reflect.TypeFor[volley.UpdateProjectRequest](), map[string]string{"Name": "name"}},
		{reflect.TypeFor[volley.Source](), map[string]string{
			"ID": "id", "Slug": "slug", "IngestionID": "ingestion_id", "Type": "type",
			"EPS": "eps", "Status": "status", "ConnectionCount": "connection_count",
			"AuthType": "auth_type", "VerifySignature": "verify_signature",
			"WebhookSecretSet": "webhook_secret_set", "AuthUsername": "auth_username,omitempty",
			"AuthKeyName": "auth_key_name,omitempty", "CreatedAt": "created_at",
			"UpdatedAt": "updated_at", "AuthKey": "auth_key,omitempty",
		}},
		{reflect.TypeFor[volley.CreateSourceRequest](), map[string]string{
			"Name": "name", "EPS": "eps", "AuthType": "auth_type",
		}},
		{reflect.TypeFor[volley.UpdateSourceRequest](), map[string]string{
			"Name": "name,omitempty", "EPS": "eps,omitempty", "AuthType": "auth_type,omitempty",
			"Status": "status,omitempty",
		}},
		{reflect.TypeFor[volley.Destination](), map[string]string{
			"ID": "id", "Name": "name", "URL": "url", "EPS": "eps", "Status": "status",
			"CreatedAt": "created_at", "UpdatedAt": "updated_at",
			// additions
			"TimeoutMS": "timeout_ms,omitempty", "ForwardTraceparent": "forward_traceparent,omitempty",
			"InsecureSkipVerify": "insecure_skip_verify,omitempty", "SigningSecretSet": "signing_secret_set,omitempty",
		}},
		{reflect.TypeFor[volley.CreateDestinationRequest](), map[string]string{
			"Name": "name", "URL": "url", "EPS": "eps",
			// additions
			"TimeoutMS": "timeout_ms,omitempty", "ForwardTraceparent": "forward_traceparent,omitempty",
			"InsecureSkipVerify": "insecure_skip_verify,omitempty", "SigningSecret": "signing_secret,omitempty",
		}},
		{reflect.TypeFor[volley.UpdateDestinationRequest](), map[string]string{
			"Name": "name,omitempty", "URL": "url,omitempty", "EPS": "eps,omitempty",
			"Status": "status,omitempty",
			// additions
			"TimeoutMS": "timeout_ms,omitempty", "ForwardTraceparent": "forward_traceparent,omitempty",
			"InsecureSkipVerify": "insecure_skip_verify,omitempty",
		}},
		{reflect.TypeFor[volley.Connection](), map[string]string{
			"ID": "id", "SourceID": "source_id", "DestinationID": "destination_id",
			"Status": "status", "EPS": "eps", "MaxRetries": "max_retries",
			"CreatedAt": "created_at", "UpdatedAt": "updated_at",
			"Metrics": "metrics,omitempty", // addition
		}},
		{reflect.TypeFor[volley.ConnectionMetrics](), map[string]string{ // addition
			"EventsRouted": "events_routed", "Delivered": "delivered", "Failed": "failed",
			"Pending": "pending", "SuccessRate": "success_rate",
			"LatencyP50Ms": "latency_p50_ms", "LatencyP95Ms": "latency_p95_ms",
			"LastDeliveryAt": "last_delivery_at,omitempty",
		}},
		{reflect.TypeFor[volley.CreateConnectionRequest](), map[string]string{
			"SourceID": "source_id", "DestinationID": "destination_id", "Status": "status",
			"EPS": "eps", "MaxRetries": "max_retries",
		}},
		{reflect.TypeFor[volley.UpdateConnectionRequest](), map[string]string{
			"Status": "status,omitempty", "EPS": "eps,omitempty", "MaxRetries": "max_retries,omitempty",
		}},
		{reflect.TypeFor[volley.Event](), map[string]string{
			"ID": "id", "EventID": "event_id", "SourceID": "source_id", "ProjectID": "project_id",
			"RawBody": "raw_body", "Headers": "headers", "Status": "status",
			"DeliveryAttempts": "delivery_attempts,omitempty", "CreatedAt": "created_at",
		}},
		{reflect.TypeFor[volley.DeliveryAttempt](), map[string]string{
			"ID": "id", "EventID": "event_id", "ConnectionID": "connection_id", "Status": "status",
			"StatusCode": "status_code", "ErrorReason": "error_reason,omitempty",
			"DurationMs": "duration_ms", "CreatedAt": "created_at",
		}},
		{reflect.TypeFor[volley.PaginatedResponse](), map[string]string{
			"Total": "total", "Limit": "limit", "Offset": "offset",
		}},
		{reflect.TypeFor[volley.ListEventsOptions](), map[string]string{
			"SourceID": "", "ConnectionID": "", "DestinationID": "", "Status": "",
			"StartTime": "", "EndTime": "", "Search": "", "Limit": "", "Offset": "",
		}},
		{reflect.TypeFor[volley.ListEventsResponse](), map[string]string{
			"PaginatedResponse": "", "Requests": "requests",
		}},
		{reflect.TypeFor[volley.ListDeliveryAttemptsOptions](), map[string]string{
			"EventID": "", "SourceID": "", "DestinationID": "", "ConnectionID": "", "Status": "",
			"StartTime": "", "EndTime": "", "Sort": "", "Limit": "", "Offset": "",
		}},
		{reflect.TypeFor[volley.ListDeliveryAttemptsResponse](), map[string]string{
			"PaginatedResponse": "", "Attempts": "attempts",
		}},
		{reflect.TypeFor[volley.ReplayEventRequest](), map[string]string{
			"EventID": "event_id", "DestinationID": "destination_id,omitempty",
			"ConnectionID": "connection_id,omitempty",
		}},
		{reflect.TypeFor[volley.ReplayEventResponse](), map[string]string{
			"Success": "success", "Status": "status", "StatusCode": "status_code",
			"ErrorReason": "error_reason,omitempty", "DurationMs": "duration_ms",
			"AttemptID": "attempt_id",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.typ.Name(), func(t *testing.T) {
			t.Parallel()
			for name, want := range tt.tags {
				f, ok := tt.typ.FieldByName(name)
				if !ok {
					t.Errorf("no field %s", name)
					continue
				}
				if len(f.Index) != 1 {
					t.Errorf("field %s is promoted from an embedded struct, want it declared on %s", name, tt.typ.Name())
				}
				if got := f.Tag.Get("json"); got != want {
					t.Errorf("field %s: json tag %q, want %q", name, got, want)
				}
			}
			// Exported fields missing from the table are untested: list them.
			for i := range tt.typ.NumField() {
				f := tt.typ.Field(i)
				if _, ok := tt.tags[f.Name]; f.IsExported() && !ok {
					t.Errorf("field %s is not in the table", f.Name)
				}
			}
		})
	}
}
