package egress

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// fakeLookup resolves names from a table; names not in it fail, like an
// unreachable DNS server.
func fakeLookup(t *testing.T, table map[string][]string) LookupFunc {
	t.Helper()
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		addrs, ok := table[host]
		if !ok {
			return nil, errors.New("lookup " + host + ": no such host")
		}
		out := make([]netip.Addr, len(addrs))
		for i, s := range addrs {
			out[i] = netip.MustParseAddr(s)
		}
		return out, nil
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	def, none, _, _ := policies(t)
	lookup := fakeLookup(t, map[string][]string{
		"internal.example.com": {"10.0.0.1"},
		"public.example.com":   {"93.184.216.34"},
		"mixed.example.com":    {"93.184.216.34", "169.254.169.254"},
		"v6.example.com":       {"2606:2800:220:1:248:1893:25c8:1946"},
		"rebind.example.com":   {"::ffff:169.254.169.254"},
	})
	const (
		ok      = ""
		blocked = "blocked by egress policy"
	)
	tests := []struct {
		raw    string
		p      *Policy
		lookup LookupFunc
		want   string // "" allowed; otherwise a substring of the error
	}{
		// Good URLs.
		{"https://example.com/hooks", def, nil, ok},
		{"http://example.com:8080/a?b=c", def, nil, ok},
		{"https://user:secret@example.com/", def, nil, ok},
		{"https://example.com./", def, nil, ok},
		{"https://EXAMPLE.com/", def, nil, ok},
		{"https://my_svc.internal-corp.example/", def, nil, ok},
		{"https://93.184.216.34/", def, nil, ok},
		{"https://[2606:2800:220:1:248:1893:25c8:1946]:443/", def, nil, ok},
		{"https://example.com:65535/", def, nil, ok},
		{"https://xn--bcher-kva.example/", def, nil, ok},

		// Scheme, host, fragment, port.
		{"ftp://example.com/", def, nil, "url must use http or https, not \"ftp\""},
		{"file:///etc/passwd", def, nil, "url must use http or https"},
		{"gopher://example.com/", def, nil, "url must use http or https"},
		{"javascript:alert(1)", def, nil, "url must use http or https"},
		{"example.com/hooks", def, nil, "url must use http or https (it has no scheme)"},
		{"//example.com/hooks", def, nil, "no scheme"},
		{"", def, nil, "no scheme"},
		{"http://", def, nil, "url has no host"},
		{"http:///path", def, nil, "url has no host"},
		{"http:path", def, nil, "url has no host"},
		{"http://:80/", def, nil, "url has no host"},
		{"http://./", def, nil, "url has no host"},
		{"https://example.com/#frag", def, nil, "url must not have a fragment"},
		{"https://example.com/#", def, nil, "url must not have a fragment"},
		{"https://example.com:0/", def, nil, "url port 0 is out of range"},
		{"https://example.com:65536/", def, nil, "url port 65536 is out of range"},
		{"https://example.com:99999999999999999999/", def, nil, "out of range"},
		{"https://example.com:/", def, nil, "url has an empty port"},
		{"https://example.com:port/", def, nil, "url is not valid"},
		{"http://exa mple.com/", def, nil, "url is not valid"},
		{"http://ex!ample.com/", def, nil, `contains the invalid character '!'`},
		{"http://a..b/", def, nil, "empty label"},
		{"http://exämple.com/", def, nil, "must be ASCII"},
		{"http://１６９.２５４.１６９.２５４/", def, nil, "must be ASCII"},
		{"http://1.2.3.4%25eth0/", def, nil, "invalid character '%'"},
		{"http://example.123/", def, nil, "neither an IPv4 address nor a host name"},
		{"http://1.2.3.4.5/", def, nil, "neither an IPv4 address nor a host name"},
		{"http://256.1.1.1/", def, nil, "neither an IPv4 address nor a host name"},
		{"http://4294967296/", def, nil, "neither an IPv4 address nor a host name"},
		{"http://08.1.1.1/", def, nil, "neither an IPv4 address nor a host name"},
		{"http://0x1g.1.1.1/", def, nil, "neither an IPv4 address nor a host name"},

		// 169.254.169.254 in every spelling, refused even with the default list.
		{"http://169.254.169.254/latest/meta-data/", def, nil, "169.254.169.254 is a link-local or metadata address"},
		{"http://169.254.169.254./", def, nil, "link-local"},
		{"http://2852039166/", def, nil, "url host 2852039166: blocked by egress policy: 169.254.169.254 is a link-local"},
		{"http://0xA9FEA9FE/", def, nil, "url host 0xA9FEA9FE: blocked"},
		{"http://0xa9fea9fe/", def, nil, "link-local"},
		{"http://0x00000000a9fea9fe/", def, nil, "link-local"},
		{"http://0251.0376.0251.0376/", def, nil, "link-local"},
		{"http://00000251.0376.0251.0376/", def, nil, "link-local"},
		{"http://025177524776/", def, nil, "link-local"},
		{"http://169.254.43518/", def, nil, "link-local"},
		{"http://169.16689662/", def, nil, "link-local"},
		{"http://0xa9.0xfe.0xa9.0xfe/", def, nil, "link-local"},
		{"http://0XA9.254.0251.0xFe/", def, nil, "link-local"},
		{"http://[::ffff:169.254.169.254]/", def, nil, "::ffff:169.254.169.254 embeds 169.254.169.254"},
		{"http://[::ffff:a9fe:a9fe]/", def, nil, "link-local"},
		{"http://[::169.254.169.254]/", def, nil, "link-local"},
		{"http://[64:ff9b::169.254.169.254]/", def, nil, "link-local"},
		{"http://[64:ff9b:1::a9fe:a9fe]/", def, nil, "link-local"},
		{"http://[2002:a9fe:a9fe::]/", def, nil, "link-local"},
		{"http://[fe80::1]/", def, nil, "fe80::1 is a link-local"},
		{"http://[fe80::1%25eth0]:8080/", def, nil, "link-local"},
		{"http://[fd00:ec2::254]/", def, nil, "cloud metadata address"},
		{"http://metadata.google.internal/computeMetadata/v1/", def, nil, "metadata.google.internal is a cloud metadata host name"},
		{"http://METADATA.GOOGLE.INTERNAL./", def, nil, "cloud metadata host name"},
		{"http://metadata/", def, nil, "cloud metadata host name"},
		{"http://example.com@169.254.169.254/", def, nil, "link-local"},

		// Unspecified, multicast, broadcast.
		{"http://0/", def, nil, "unspecified"},
		{"http://0x/", def, nil, "unspecified"},
		{"http://0.0.0.0:8080/", def, nil, "unspecified"},
		{"http://[::]/", def, nil, "unspecified"},
		{"http://224.0.0.1/", def, nil, "multicast"},
		{"http://255.255.255.255/", def, nil, "broadcast"},
		{"http://4294967295/", def, nil, "broadcast"},

		// 127.0.0.1 in every spelling: allowed by default, refused without.
		{"http://127.0.0.1:3000/hooks", def, nil, ok},
		{"http://2130706433/", def, nil, ok},
		{"http://0x7f000001/", def, nil, ok},
		{"http://017700000001/", def, nil, ok},
		{"http://0177.0.0.1/", def, nil, ok},
		{"http://127.1/", def, nil, ok},
		{"http://0x7f.1/", def, nil, ok},
		{"http://127.0.1/", def, nil, ok},
		{"http://[::1]:3000/", def, nil, ok},
		{"http://[::ffff:127.0.0.1]/", def, nil, ok},
		{"http://localhost:3000/", def, nil, ok},
		{"http://api.localhost/", def, nil, ok},
		{"http://LocalHost./", def, nil, ok},
		{"http://127.0.0.1:3000/hooks", none, nil, "127.0.0.1 is a loopback address not in the allow-list"},
		{"http://2130706433/", none, nil, "url host 2130706433: blocked by egress policy: 127.0.0.1 is a loopback"},
		{"http://0x7f000001/", none, nil, blocked},
		{"http://017700000001/", none, nil, blocked},
		{"http://0177.0.0.1/", none, nil, blocked},
		{"http://127.1/", none, nil, blocked},
		{"http://[::1]/", none, nil, "::1 is a loopback address"},
		{"http://localhost:3000/", none, nil, "url host localhost: blocked by egress policy: 127.0.0.1 is a loopback"},
		{"http://api.localhost/", none, nil, blocked},
		{"http://ip6-localhost/", none, nil, "::1 is a loopback"},

		// Private literals.
		{"http://10.0.0.1/", def, nil, "10.0.0.1 is a private address not in the allow-list"},
		{"http://012.0.0.1/", def, nil, "url host 012.0.0.1: blocked by egress policy: 10.0.0.1 is a private"},
		{"http://192.168.1.10/", def, nil, blocked},
		{"http://[fd12::1]/", def, nil, "unique local"},

		// Names resolved through the injected lookup.
		{"https://internal.example.com/", def, lookup, "url host internal.example.com: blocked by egress policy: 10.0.0.1 is a private address"},
		{"https://public.example.com/", def, lookup, ok},
		{"https://v6.example.com/", def, lookup, ok},
		{"https://mixed.example.com/", def, lookup, "169.254.169.254 is a link-local"},
		{"https://rebind.example.com/", def, lookup, "link-local"},
		{"https://unresolvable.example.com/", def, lookup, ok},
		{"https://internal.example.com/", def, nil, ok},
		{"https://internal.example.com/", NewPolicy(mustAllow(t, "10.0.0.0/8")), lookup, ok},
	}
	for _, tt := range tests {
		err := tt.p.CheckURL(context.Background(), tt.raw, tt.lookup)
		switch {
		case tt.want == ok && err != nil:
			t.Errorf("CheckURL(%q) = %v, want nil", tt.raw, err)
		case tt.want == ok:
		case err == nil:
			t.Errorf("CheckURL(%q) = nil, want an error containing %q", tt.raw, tt.want)
		case !strings.Contains(err.Error(), tt.want):
			t.Errorf("CheckURL(%q) = %q, want it to contain %q", tt.raw, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), blocked) != errors.Is(err, ErrBlocked) {
			t.Errorf("CheckURL(%q) = %q: says blocked but does not wrap ErrBlocked, or the reverse", tt.raw, err)
		}
	}
}

func TestCheckURLPassesHostToLookup(t *testing.T) {
	t.Parallel()
	var got []string
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		got = append(got, host)
		return nil, nil
	}
	p := NewPolicy(DefaultAllow())
	for _, raw := range []string{"https://Example.com:8443/x", "http://localhost/", "http://10.0.0.1/", "http://metadata/"} {
		_ = p.CheckURL(context.Background(), raw, lookup)
	}
	// Literals, loopback and metadata names are judged without DNS.
	if len(got) != 1 || got[0] != "Example.com" {
		t.Errorf("lookup saw %q, want only [Example.com]", got)
	}
}

func TestParseLegacyIPv4(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" means not an address
	}{
		{"169.254.169.254", "169.254.169.254"},
		{"2852039166", "169.254.169.254"},
		{"0xA9FEA9FE", "169.254.169.254"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"169.254.43518", "169.254.169.254"},
		{"169.16689662", "169.254.169.254"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"0x", "0.0.0.0"},
		{"0", "0.0.0.0"},
		{"00", "0.0.0.0"},
		{"1.2.3", "1.2.0.3"},
		{"1.0x10000", "1.1.0.0"},
		{"1.0x1000000", ""},
		{"1.0xffffff", "1.255.255.255"},
		{"1.2.65535", "1.2.255.255"},
		{"1.2.65536", ""},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"99999999999999999999999", ""},
		{"256.0.0.1", ""},
		{"1.2.3.256", ""},
		{"1.2.3.4.5", ""},
		{"1..2", ""},
		{"", ""},
		{"08", ""},
		{"0x1g", ""},
		{"+1", ""},
		{"1.2.3.-4", ""},
		{"example", ""},
	}
	for _, tt := range tests {
		got, ok := parseLegacyIPv4(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseLegacyIPv4(%q) = %s, want no address", tt.in, got)
		case tt.want != "" && (!ok || got.String() != tt.want):
			t.Errorf("parseLegacyIPv4(%q) = %s, %v, want %s", tt.in, got, ok, tt.want)
		}
	}
}

func TestEndsInNumber(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"example.com": false, "1.2.3.4": true, "example.123": true, "example.0x": true,
		"example.0xag": false, "0xA9FEA9FE": true, "a1": false, "1a": false, "": false,
	}
	for in, want := range tests {
		if got := endsInNumber(in); got != want {
			t.Errorf("endsInNumber(%q) = %v, want %v", in, got, want)
		}
	}
}
