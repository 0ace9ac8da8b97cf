package volley_test

import (
	"fmt"
	"log"

	"github.com/volleyhq/volley"
)

// The examples are the seed README's samples, run against a real server:
// apiToken("…") and baseURL() stand in for "your-api-token" and the hosted
// API.

func Example() {
	// Create a client with your API token
	client := volley.NewClient(apiToken("Quick Start"), volley.WithBaseURL(baseURL()))

	// List organizations
	orgs, err := client.ListOrganizations()
	if err != nil {
		log.Fatal(err)
	}

	for _, org := range orgs {
		fmt.Printf("Organization: %s (role %s)\n", org.Name, org.Role)
	}
	// Output:
	// Organization: Quick Start's organization (role owner)
}

func ExampleClient_CreateOrganization() {
	client := volley.NewClient(apiToken("Orgs"), volley.WithBaseURL(baseURL()))

	// Create organization
	newOrg, err := client.CreateOrganization(volley.CreateOrganizationRequest{
		Name: "My Organization",
	})
	if err != nil {
		log.Fatal(err)
	}

	// Get it back by setting the organization context for one call
	org, err := client.GetOrganization(&newOrg.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(org.Name, org.Role, org.ID == newOrg.ID)

	// Without an organization ID the API uses the first accessible one
	first, err := client.GetOrganization(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Name)
	// Output:
	// My Organization owner true
	// Orgs's organization
}

func ExampleClient_CreateProject() {
	client := volley.NewClient(apiToken("Projects"), volley.WithBaseURL(baseURL()))

	// Create project
	project, err := client.CreateProject(volley.CreateProjectRequest{
		Name:      "My Project",
		IsDefault: false,
	})
	if err != nil {
		log.Fatal(err)
	}

	// Update project
	updated, err := client.UpdateProject(project.ID, volley.UpdateProjectRequest{
		Name: "Updated Name",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Name, updated.IsDefault)

	// List projects
	projects, err := client.ListProjects()
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range projects {
		fmt.Println(p.Name, p.IsDefault)
	}

	// Delete project
	if err := client.DeleteProject(project.ID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Updated Name false
	// Default true
	// Updated Name false
}

func ExampleClient_CreateSource() {
	client := volley.NewClient(apiToken("Sources"), volley.WithBaseURL(baseURL()))
	projects, err := client.ListProjects()
	if err != nil {
		log.Fatal(err)
	}
	projectID := projects[0].ID

	// Create source
	source, err := client.CreateSource(projectID, volley.CreateSourceRequest{
		Name:     "Stripe Webhooks",
		EPS:      10,
		AuthType: "none",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(source.Slug, source.EPS, source.AuthType, source.Status, len(source.IngestionID))

	// Update source
	updated, err := client.UpdateSource(source.ID, volley.UpdateSourceRequest{
		Name: "Updated Source Name",
		EPS:  &[]int{20}[0],
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Slug, updated.EPS)

	// List sources in a project
	sources, err := client.ListSources(projectID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sources), sources[0].IngestionID == source.IngestionID)
	// Output:
	// stripe-webhooks 10 none active 26
	// stripe-webhooks 20
	// 1 true
}

func ExampleClient_CreateConnection() {
	client := volley.NewClient(apiToken("Connections"), volley.WithBaseURL(baseURL()))
	projects, err := client.ListProjects()
	if err != nil {
		log.Fatal(err)
	}
	projectID := projects[0].ID
	source, err := client.CreateSource(projectID, volley.CreateSourceRequest{Name: "GitHub"})
	if err != nil {
		log.Fatal(err)
	}

	// Create destination
	dest, err := client.CreateDestination(projectID, volley.CreateDestinationRequest{
		Name: "Production Endpoint",
		URL:  "https://api.example.com/webhooks",
		EPS:  5,
	})
	if err != nil {
		log.Fatal(err)
	}

	// Create connection
	conn, err := client.CreateConnection(projectID, volley.CreateConnectionRequest{
		SourceID:      source.ID,
		DestinationID: dest.ID,
		Status:        "enabled",
		EPS:           5,
		MaxRetries:    3,
	})
	if err != nil {
		log.Fatal(err)
	}

	// List connections
	connections, err := client.GetConnections(projectID)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range connections {
		fmt.Println(c.ID == conn.ID, c.Status, c.EPS, c.MaxRetries)
	}
	// Output:
	// true enabled 5 3
}

func ExampleAPIError() {
	client := volley.NewClient(apiToken("Errors"), volley.WithBaseURL(baseURL()))

	_, err := client.GetSource(987654321)
	if err != nil {
		if apiErr, ok := err.(*volley.APIError); ok {
			fmt.Printf("API Error: %s (Status: %d)\n", apiErr.ErrorMsg, apiErr.Status)
		} else {
			fmt.Printf("Error: %v\n", err)
		}
	}

	bad := volley.NewClient("not-a-token", volley.WithBaseURL(baseURL()))
	_, err = bad.ListOrganizations()
	fmt.Println(err)
	// Output:
	// API Error: Source not found (Status: 404)
	// unauthorized
}

func ExampleClient_SendWebhook() {
	client := volley.NewClient(apiToken("Webhooks"), volley.WithBaseURL(baseURL()))
	projects, err := client.ListProjects()
	if err != nil {
		log.Fatal(err)
	}
	projectID := projects[0].ID
	source, err := client.CreateSource(projectID, volley.CreateSourceRequest{Name: "Signups"})
	if err != nil {
		log.Fatal(err)
	}

	// Send a webhook to a source
	eventID, err := client.SendWebhook(source.IngestionID, map[string]interface{}{
		"event": "user.created",
		"data": map[string]interface{}{
			"user_id": "123",
			"email":   "user@example.com",
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	// List events with filters
	events, err := client.ListEvents(projectID, &volley.ListEventsOptions{
		SourceID: &source.ID,
		Limit:    &[]int{50}[0],
		Offset:   &[]int{0}[0],
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events.Requests {
		// No connection yet, so the event is stored but routed nowhere.
		fmt.Println(e.EventID == eventID, e.Status, e.RawBody)
	}

	// Get event details
	event, err := client.GetEvent(events.Requests[0].ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(event.EventID == eventID, len(event.DeliveryAttempts))

	// Replaying needs a connection to replay to
	_, err = client.ReplayEvent(volley.ReplayEventRequest{EventID: eventID})
	fmt.Println(err)

	// List delivery attempts
	attempts, err := client.ListDeliveryAttempts(projectID, &volley.ListDeliveryAttemptsOptions{
		EventID: eventID,
		Status:  "failed",
		Limit:   &[]int{50}[0],
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(attempts.Total)
	// Output:
	// true dropped {"data":{"email":"user@example.com","user_id":"123"},"event":"user.created"}
	// true 0
	// the event's source has no connection to replay it to
	// 0
}
