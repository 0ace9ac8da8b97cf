// Package egress is the outbound-network safety policy for deliveries. It
// decides which addresses a destination may reach, once when the destination
// is saved (CheckURL) and again when the delivery engine connects (Control,
// NewTransport), so that a webhook URL cannot be turned against the gateway's
// own network or its cloud metadata service.
//
// Every address falls into one of three classes:
//
//   - forbidden: link-local and cloud metadata addresses, unspecified,
//     multicast and broadcast addresses. They are refused whatever the
//     allow-list says: nothing legitimate receives webhooks there, and a
//     metadata service hands out credentials.
//   - non-public: loopback, private, shared (carrier-grade NAT),
//     benchmarking, documentation and reserved ranges. They are refused
//     unless an allow-list prefix contains them.
//   - public: everything else, always allowed.
//
// IPv6 spellings of an IPv4 address that a host or a translator turns into
// that IPv4 address (IPv4-mapped, IPv4-compatible, SIIT-translated and the
// NAT64 well-known prefix 64:ff9b::/96) are judged as the IPv4 address the
// packets reach, allow-list included. Tunnel and local-use NAT64 forms
// (6to4, Teredo, 64:ff9b:1::/48) are non-public in their own right, and are
// forbidden when any IPv4 address they may embed is a link-local or metadata
// address.
package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrBlocked is wrapped by every error that refuses a destination because of
// the egress policy, so callers can tell a policy refusal (a 400 on save, an
// attempt's error_reason at delivery) from a malformed URL or a network fault.
var ErrBlocked = errors.New("blocked by egress policy")

// Policy decides which addresses outbound deliveries may reach. Build one
// with NewPolicy. A Policy is immutable and safe for concurrent use. The zero
// value, and a nil *Policy, behave like an empty allow-list: only public
// addresses pass, which fails closed if a caller forgets to configure one.
type Policy struct {
	// allow holds masked prefixes; IPv4-mapped prefixes are stored in their
	// IPv4 form because addresses are matched in the form packets reach.
	allow []netip.Prefix
}

// NewPolicy returns a Policy that lets non-public addresses through when one
// of the allow prefixes contains them. A nil or empty allow-list allows no
// non-public address at all, not even loopback; pass DefaultAllow() for the
// out-of-the-box behaviour. Invalid (zero) prefixes are ignored, host bits are
// masked off, and IPv4-mapped prefixes (::ffff:a.b.c.d/n, n >= 96) are
// rewritten to their IPv4 form. Forbidden addresses stay refused even when a
// prefix such as 0.0.0.0/0 contains them. The slice is copied.
func NewPolicy(allow []netip.Prefix) *Policy {
	p := &Policy{allow: make([]netip.Prefix, 0, len(allow))}
	for _, pfx := range allow {
		if !pfx.IsValid() {
			continue
		}
		p.allow = append(p.allow, normalizePrefix(pfx))
	}
	return p
}

// DefaultAllow returns the default allow-list, loopback only (127.0.0.0/8 and
// ::1/128), so that a gateway and a receiver on one laptop work out of the
// box while the rest of the local network stays out of reach. Each call
// returns a new slice.
func DefaultAllow() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}
}

// ParseAllowList parses the allow-list setting: comma-separated CIDR
// prefixes or bare IP addresses (a bare address stands for /32 or /128).
// Spaces around entries and empty entries are ignored, so "" yields an empty
// (nil) list. A prefix with host bits set is an error rather than silently
// widened or narrowed, because "10.1.2.3/8" is more likely a typo than a wish
// to allow all of 10.0.0.0/8. The error names the offending entry.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for field := range strings.SplitSeq(s, ",") {
		entry := strings.TrimSpace(field)
		if entry == "" {
			continue
		}
		pfx, err := parseAllowEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("allow-list entry %q: %w", entry, err)
		}
		out = append(out, pfx)
	}
	return out, nil
}

func parseAllowEntry(entry string) (netip.Prefix, error) {
	if strings.Contains(entry, "/") {
		pfx, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a CIDR prefix: %w", err)
		}
		if masked := pfx.Masked(); masked != pfx {
			return netip.Prefix{}, fmt.Errorf("host bits are set; did you mean %s", masked)
		}
		return normalizePrefix(pfx), nil
	}
	addr, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix: %w", err)
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, errors.New("an address with a zone cannot be allow-listed")
	}
	return normalizePrefix(netip.PrefixFrom(addr, addr.BitLen())), nil
}

// normalizePrefix masks pfx and turns an IPv4-mapped prefix into its IPv4
// form, because CheckAddr matches the IPv4 address packets actually reach.
func normalizePrefix(pfx netip.Prefix) netip.Prefix {
	addr, bits := pfx.Addr().WithZone(""), pfx.Bits()
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
	}
	return netip.PrefixFrom(addr, bits).Masked()
}

// CheckAddr reports whether the policy lets a delivery connect to a. It
// returns nil for an allowed address and otherwise an error wrapping
// ErrBlocked that says what kind of address a is, for example "blocked by
// egress policy: 169.254.169.254 is a link-local or metadata address". IPv6
// forms that embed an IPv4 address are unwrapped first (see the package
// documentation); a zone is ignored.
func (p *Policy) CheckAddr(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: the address is not valid", ErrBlocked)
	}
	eff := effective(a.WithZone(""))
	if what, ok := forbidden(eff); ok {
		return refusal(a, eff, what, "")
	}
	for _, inner := range tunnelled(eff) {
		if what, ok := match(metadataRanges, inner); ok {
			return refusal(a, inner, what, "")
		}
	}
	what, ok := nonPublic(eff)
	if !ok || p.allows(eff) {
		return nil
	}
	return refusal(a, eff, what, " not in the allow-list")
}

// allows reports whether an allow-list prefix contains a. A nil policy
// allows nothing so that a missing policy fails closed.
func (p *Policy) allows(a netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, pfx := range p.allow {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// refusal words the error so that a person reading an attempt's
// error_reason sees both the address they configured and, when it differs,
// the address it stands for.
func refusal(orig, judged netip.Addr, what, tail string) error {
	if orig.WithZone("") == judged {
		return fmt.Errorf("%w: %s is %s%s", ErrBlocked, orig, what, tail)
	}
	return fmt.Errorf("%w: %s embeds %s, %s%s", ErrBlocked, orig, judged, what, tail)
}
