package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// LookupFunc resolves a host name to the addresses a dial would try. It is a
// function rather than a *net.Resolver so tests can resolve names without a
// network; ResolverLookup adapts a resolver.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// ResolverLookup returns a LookupFunc that asks r (net.DefaultResolver when r
// is nil) for both IPv4 and IPv6 addresses, as the dialer would.
func ResolverLookup(r *net.Resolver) LookupFunc {
	if r == nil {
		r = net.DefaultResolver
	}
	return func(ctx context.Context, host string) ([]netip.Addr, error) {
		return r.LookupNetIP(ctx, "ip", host)
	}
}

// CheckURL validates a destination URL when it is saved. The URL must use
// http or https, have a host, have no fragment, and have a port from 1 to
// 65535 if it has one. An IP literal in any spelling a resolver accepts
// (dotted decimal, the inet_aton decimal, octal, hexadecimal and short forms,
// bracketed IPv6 with embedded IPv4) must pass CheckAddr. "localhost" and
// names under ".localhost" are judged as 127.0.0.1 without DNS, and cloud
// metadata host names are refused. Host names must be ASCII: the HTTP client
// maps Unicode names (full-width digits included) to other names before
// dialling, which a save-time check cannot follow without IDNA tables.
//
// When lookup is non-nil every address the host resolves to must pass
// CheckAddr. A lookup error is ignored: DNS may be down or the name not yet
// published when a destination is saved, and Control checks again at connect
// time. Errors are worded for a person; policy refusals wrap ErrBlocked.
func (p *Policy) CheckURL(ctx context.Context, raw string, lookup LookupFunc) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url is not valid: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return errors.New("url must use http or https (it has no scheme)")
	default:
		return fmt.Errorf("url must use http or https, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("url has no host")
	}
	// url.URL cannot tell "x/#" from "x/", and a fragment is never sent, so
	// the raw string is the only place to catch a meaningless trailing '#'.
	if strings.Contains(raw, "#") {
		return errors.New("url must not have a fragment")
	}
	if err := checkPort(u); err != nil {
		return err
	}
	return p.checkHost(ctx, u, lookup)
}

func checkPort(u *url.URL) error {
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return errors.New("url has an empty port")
		}
		return nil
	}
	// url.Parse guarantees digits only.
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("url port %s is out of range (1-65535)", port)
	}
	return nil
}

func (p *Policy) checkHost(ctx context.Context, u *url.URL, lookup LookupFunc) error {
	hostname := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(hostname)
		if err != nil {
			return fmt.Errorf("url host %s is not a valid IPv6 address", u.Host)
		}
		return p.CheckAddr(a)
	}
	// Resolvers ignore one trailing dot (an absolute name), so judge the
	// host without it: "169.254.169.254." must not slip past as a name.
	name := strings.TrimSuffix(strings.ToLower(hostname), ".")
	if name == "" {
		return errors.New("url has no host")
	}
	if a, err := netip.ParseAddr(name); err == nil {
		return hostErr(hostname, a, p.CheckAddr(a))
	}
	if err := checkHostName(name); err != nil {
		return fmt.Errorf("url host %q %w", hostname, err)
	}
	if endsInNumber(name) {
		a, ok := parseLegacyIPv4(name)
		if !ok {
			return fmt.Errorf("url host %q is neither an IPv4 address nor a host name", hostname)
		}
		return hostErr(hostname, a, p.CheckAddr(a))
	}
	if isMetadataName(name) {
		return fmt.Errorf("%w: %s is a cloud metadata host name", ErrBlocked, hostname)
	}
	if a, ok := loopbackName(name); ok {
		return hostErr(hostname, a, p.CheckAddr(a))
	}
	if lookup == nil {
		return nil
	}
	addrs, err := lookup(ctx, hostname)
	if err != nil {
		return nil // DNS failures are not save errors: see the doc comment
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return fmt.Errorf("url host %s: %w", hostname, err)
		}
	}
	return nil
}

// hostErr names the host the user wrote when it is spelled differently from
// the address it was judged as, so "0xA9FEA9FE" is recognisable in the error.
func hostErr(hostname string, a netip.Addr, err error) error {
	if err == nil || hostname == a.String() {
		return err
	}
	return fmt.Errorf("url host %s: %w", hostname, err)
}

// checkHostName accepts lowercase ASCII letters, digits, '-', '_' and
// non-empty dot-separated labels. Underscores are allowed because internal
// DNS uses them even though public host names do not. The error completes
// the sentence `url host "x" …`.
func checkHostName(name string) error {
	if len(name) > 253 {
		return errors.New("is longer than 253 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 0x80:
			return errors.New("must be ASCII; write international names in punycode (xn--…)")
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return fmt.Errorf("contains the invalid character %q", c)
		}
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("has an empty label or one longer than 63 characters")
		}
	}
	return nil
}

// isMetadataName reports whether name is a cloud metadata service's host
// name. Refusing the name saves a lookup that, inside the cloud, would
// resolve to a link-local address anyway.
func isMetadataName(name string) bool {
	switch name {
	case "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal":
		return true
	}
	return false
}

// loopbackName returns the loopback address a well-known local name stands
// for. RFC 6761 reserves "localhost" and everything under it for loopback,
// and the others are the names distributions put in /etc/hosts.
func loopbackName(name string) (netip.Addr, bool) {
	switch {
	case name == "localhost", strings.HasSuffix(name, ".localhost"), name == "localhost.localdomain":
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), true
	case name == "ip6-localhost", name == "ip6-loopback":
		return netip.IPv6Loopback(), true
	}
	return netip.Addr{}, false
}
