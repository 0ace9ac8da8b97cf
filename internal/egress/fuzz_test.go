package egress

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// referenceIPv4 is a second, deliberately different implementation of the
// legacy IPv4 grammar (inet_aton plus WHATWG's empty "0x"), built on
// strconv, to cross-check parseLegacyIPv4.
func referenceIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, part := range parts {
		var digits string
		base := 10
		switch {
		case part == "":
			return netip.Addr{}, false
		case strings.HasPrefix(part, "0x"), strings.HasPrefix(part, "0X"):
			digits, base = part[2:], 16
			if digits == "" {
				digits = "0"
			}
		case len(part) > 1 && part[0] == '0':
			digits, base = part[1:], 8
		default:
			digits = part
		}
		if strings.ContainsAny(digits, "+-_") {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	// Leading parts are single bytes; the last fills the rest, big-endian.
	var b [4]byte
	last := len(vals) - 1
	for i, v := range vals[:last] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	v := vals[last]
	for j := 3; j >= last; j-- {
		b[j] = byte(v)
		v >>= 8
	}
	if v != 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// mustRefuse lists, independently of the package's own tables, IPv4
// ranges that the default policy must never let a saved URL reach.
var mustRefuse = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

func refused(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range mustRefuse {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var fuzzSeeds = []string{
	"169.254.169.254", "2852039166", "0xA9FEA9FE", "0251.0376.0251.0376", "169.254.43518",
	"169.16689662", "0xa9.0xfe.0xa9.0xfe", "127.1", "0x7f000001", "017700000001", "0", "0x",
	"1.2.3.4.", "256.1.1.1", "4294967296", "1..2", "08", "0x1g", "example.com", "localhost",
}

func FuzzParseLegacyIPv4(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseLegacyIPv4(s)
		want, wantOK := referenceIPv4(s)
		if ok != wantOK || got != want {
			t.Fatalf("parseLegacyIPv4(%q) = %s, %v; reference = %s, %v", s, got, ok, want, wantOK)
		}
		if strict, err := netip.ParseAddr(s); err == nil && strict.Is4() && (!ok || got != strict) {
			t.Fatalf("parseLegacyIPv4(%q) = %s, %v; netip.ParseAddr = %s", s, got, ok, strict)
		}
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("http://" + s + "/")
	}
	for _, s := range []string{
		"https://example.com/x", "http://[::ffff:169.254.169.254]/", "http://[fe80::1%25eth0]:80/",
		"http://[64:ff9b::a9fe:a9fe]/", "http://user@10.0.0.1:8080/", "http://api.localhost./",
		"http://metadata.google.internal/", "ftp://x/", "http://x/#f", "http://x:0/", "http://１２７.0.0.1/",
	} {
		f.Add(s)
	}
	p := NewPolicy(DefaultAllow())
	// Every name resolves to the metadata address, so a URL that passes
	// must have a host that was judged without DNS: an allowed literal or
	// a loopback name.
	evil := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if err := p.CheckURL(context.Background(), raw, evil); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("CheckURL(%q) allowed a URL url.Parse rejects: %v", raw, err)
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		if _, ok := loopbackName(host); ok {
			return
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			var ok bool
			if a, ok = referenceIPv4(host); !ok {
				t.Fatalf("CheckURL(%q) allowed host %q without resolving it", raw, host)
			}
		}
		if refused(a) {
			t.Fatalf("CheckURL(%q) allowed %s", raw, a)
		}
	})
}

func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{"", "127.0.0.0/8,::1", "10.1.2.3/8", "::ffff:10.0.0.0/104", " , fe80::1%x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		allow, err := ParseAllowList(s)
		if err != nil {
			return
		}
		var parts []string
		for _, pfx := range allow {
			if !pfx.IsValid() || pfx != pfx.Masked() {
				t.Fatalf("ParseAllowList(%q) returned %v", s, pfx)
			}
			parts = append(parts, pfx.String())
		}
		again, err := ParseAllowList(strings.Join(parts, ","))
		if err != nil || len(again) != len(allow) {
			t.Fatalf("ParseAllowList(%q) does not round-trip: %v, %v", s, again, err)
		}
	})
}
