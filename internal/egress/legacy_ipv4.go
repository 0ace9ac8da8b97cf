package egress

import (
	"math"
	"net/netip"
	"strings"
)

// The URL host parsers of C resolvers (inet_aton(3), used by getaddrinfo)
// and browsers (the WHATWG URL standard) accept IPv4 addresses in spellings
// netip.ParseAddr rejects: "2852039166", "0xA9FEA9FE", "0251.0376.0251.0376",
// "169.254.43518". A save-time check that only knew dotted decimal would let
// these through to a resolver that turns them into 169.254.169.254. The
// parser below accepts the union of both grammars, so anything either would
// read as an address is judged as that address.

// endsInNumber reports whether the last dot-separated label of host is a
// number (decimal digits, or "0x" followed by hex digits). Such a host is
// never a DNS name, since top-level domains are alphabetic, so the WHATWG
// rule applies: it must parse as an IPv4 address or be rejected.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		last = last[2:]
		for i := 0; i < len(last); i++ {
			if digitValue(last[i]) >= 16 {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

// parseLegacyIPv4 parses one to four dot-separated numbers, each decimal,
// octal (leading "0") or hexadecimal (leading "0x", whose digits may be
// absent as WHATWG allows). Every number but the last is one byte; the last
// fills the remaining bytes, so "169.254.43518" and "2852039166" are both
// 169.254.169.254. A trailing dot must already be removed.
func parseLegacyIPv4(s string) (netip.Addr, bool) {
	var nums [4]uint64
	n := 0
	for part := range strings.SplitSeq(s, ".") {
		if n == len(nums) {
			return netip.Addr{}, false
		}
		v, ok := parseIPv4Number(part)
		if !ok {
			return netip.Addr{}, false
		}
		nums[n] = v
		n++
	}
	last := n - 1
	for i := range last {
		if nums[i] > 0xff {
			return netip.Addr{}, false
		}
	}
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	v := nums[last]
	for i := range last {
		v |= nums[i] << (24 - 8*i)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number parses one part of a legacy IPv4 address. Values above
// 2^32-1 are rejected as they are read, which also bounds the work on long
// inputs of leading zeros to one pass.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= base {
			return 0, false
		}
		n = n*base + d
		if n > math.MaxUint32 {
			return 0, false
		}
	}
	return n, true
}

// digitValue returns the value of a hexadecimal digit, or 255 for any other
// byte so that it fails every base check.
func digitValue(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 255
}
