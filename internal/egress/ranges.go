package egress

import "net/netip"

// rangeRule names an address range for error messages; what completes the
// sentence "<address> is …" and so carries its own article.
type rangeRule struct {
	prefix netip.Prefix
	what   string
}

const (
	whatLinkLocal   = "a link-local or metadata address"
	whatMetadata    = "a cloud metadata address"
	whatUnspecified = "an unspecified address"
	whatMulticast   = "a multicast address"
	whatBroadcast   = "the broadcast address"
	whatLoopback    = "a loopback address"
	whatPrivate     = "a private address"
	whatDocs        = "a documentation address"
	whatReserved    = "a reserved address"
)

// metadataRanges are refused whatever the allow-list says. Besides the
// link-local ranges they list the metadata endpoints that clouds put outside
// link-local space; those leak credentials or platform secrets just the same,
// and no webhook receiver lives there. They are also the ranges checked
// inside tunnel addresses, where a false match on the other forbidden ranges
// (any zero byte reads as 0.0.0.0/8) would refuse ordinary addresses.
var metadataRanges = []rangeRule{
	{netip.MustParsePrefix("169.254.0.0/16"), whatLinkLocal},
	{netip.MustParsePrefix("fe80::/10"), whatLinkLocal},
	{netip.MustParsePrefix("fd00:ec2::254/128"), whatMetadata},  // AWS IMDS over IPv6
	{netip.MustParsePrefix("fd20:ce::254/128"), whatMetadata},   // GCE metadata on IPv6-only VMs
	{netip.MustParsePrefix("100.100.100.200/32"), whatMetadata}, // Alibaba Cloud
	{netip.MustParsePrefix("192.0.0.192/32"), whatMetadata},     // Oracle Cloud (legacy)
	{netip.MustParsePrefix("168.63.129.16/32"), whatMetadata},   // Azure WireServer
}

// forbiddenRanges are the other ranges refused whatever the allow-list
// says: nothing that receives a webhook can live there, and a dial to the
// unspecified address reaches the local host.
var forbiddenRanges = []rangeRule{
	{netip.MustParsePrefix("0.0.0.0/8"), whatUnspecified},
	{netip.MustParsePrefix("::/128"), whatUnspecified},
	{netip.MustParsePrefix("224.0.0.0/4"), whatMulticast},
	{netip.MustParsePrefix("ff00::/8"), whatMulticast},
	{netip.MustParsePrefix("255.255.255.255/32"), whatBroadcast},
}

// nonPublicRanges are refused unless allow-listed. They follow the IANA
// special-purpose registries: every range not globally reachable, plus the
// tunnel forms whose real destination cannot be judged from the address.
var nonPublicRanges = []rangeRule{
	{netip.MustParsePrefix("127.0.0.0/8"), whatLoopback},
	{netip.MustParsePrefix("::1/128"), whatLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), whatPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), whatPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), whatPrivate},
	{netip.MustParsePrefix("fc00::/7"), "a unique local (private) address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local (private) address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), whatDocs},
	{netip.MustParsePrefix("198.51.100.0/24"), whatDocs},
	{netip.MustParsePrefix("203.0.113.0/24"), whatDocs},
	{netip.MustParsePrefix("2001:db8::/32"), whatDocs},
	{netip.MustParsePrefix("3fff::/20"), whatDocs},
	{netip.MustParsePrefix("192.88.99.0/24"), "a 6to4 relay anycast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), whatReserved},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("5f00::/16"), "an SRv6 segment identifier address"},
}

// IPv6 prefixes that carry an IPv4 address.
var (
	// Translated one-to-one to their IPv4 address by the host or a
	// translator, so they are judged as that address.
	mapped4  = netip.MustParsePrefix("::ffff:0:0/96")
	siit4    = netip.MustParsePrefix("::ffff:0:0:0/96")
	compat4  = netip.MustParsePrefix("::/96")
	nat64WKP = netip.MustParsePrefix("64:ff9b::/96")

	// Tunnels and operator-chosen NAT64 prefixes: where the packets end up
	// depends on infrastructure we cannot see.
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	teredo     = netip.MustParsePrefix("2001::/32")

	// globalUnicast6 is the only IPv6 space allocated for the public
	// internet; anything outside it is reserved.
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
)

func match(rules []rangeRule, a netip.Addr) (string, bool) {
	for _, r := range rules {
		if r.prefix.Contains(a) {
			return r.what, true
		}
	}
	return "", false
}

// forbidden reports whether a is refused whatever the allow-list says, and
// what kind of address it is.
func forbidden(a netip.Addr) (string, bool) {
	if what, ok := match(metadataRanges, a); ok {
		return what, true
	}
	return match(forbiddenRanges, a)
}

// nonPublic reports whether a needs an allow-list entry, and what kind of
// address it is.
func nonPublic(a netip.Addr) (string, bool) {
	if what, ok := match(nonPublicRanges, a); ok {
		return what, true
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return whatReserved, true
	}
	return "", false
}

// effective returns the address packets sent to a actually reach: the
// embedded IPv4 address for the IPv6 forms that translate one-to-one,
// otherwise a itself. a must not carry a zone.
func effective(a netip.Addr) netip.Addr {
	if !a.Is6() {
		return a
	}
	switch {
	case mapped4.Contains(a):
		return a.Unmap()
	case siit4.Contains(a), nat64WKP.Contains(a):
		return low4(a)
	case compat4.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		// :: and ::1 are the IPv6 unspecified and loopback addresses, not
		// IPv4-compatible spellings of 0.0.0.0 and 0.0.0.1.
		return low4(a)
	}
	return a
}

// tunnelled returns the IPv4 addresses a tunnel or local-use NAT64 address
// may deliver to. For 64:ff9b:1::/48 the operator picks the prefix length,
// so every RFC 6052 layout that fits inside the /48 is returned.
func tunnelled(a netip.Addr) []netip.Addr {
	if !a.Is6() {
		return nil
	}
	b := a.As16()
	switch {
	case sixToFour.Contains(a):
		return []netip.Addr{netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})}
	case teredo.Contains(a):
		// Server in bits 32-63, client obfuscated (inverted) in bits 96-127.
		return []netip.Addr{
			netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}),
			netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}),
		}
	case nat64Local.Contains(a):
		// RFC 6052 section 2.2: bits 64-71 (byte 8) are always skipped.
		return []netip.Addr{
			netip.AddrFrom4([4]byte{b[6], b[7], b[9], b[10]}),    // /48
			netip.AddrFrom4([4]byte{b[7], b[9], b[10], b[11]}),   // /56
			netip.AddrFrom4([4]byte{b[9], b[10], b[11], b[12]}),  // /64
			netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), // /96
		}
	}
	return nil
}

// low4 returns the IPv4 address in the last 32 bits of a.
func low4(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
}
