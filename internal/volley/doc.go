// Package volley holds Volley's domain: tenants (accounts, organizations,
// projects), the routing graph (sources, destinations, connections) and the
// traffic that flows through it (events, deliveries, attempts), with the
// validation and status rules that every transport and storage driver share.
//
// The package does no I/O. Identifiers that must be unguessable are drawn from
// an io.Reader the caller injects, so tests can make them deterministic.
package volley
