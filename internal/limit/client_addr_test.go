package limit

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestProxiesClient(t *testing.T) {
	t.Parallel()
	proxies, err := ParseProxies(" 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		proxies Proxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: the peer, header ignored", Proxies{}, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"untrusted peer: header ignored", proxies, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted peer, no header", proxies, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"one trusted hop", proxies, "10.1.2.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-forged hops left of the client", proxies, "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted hops skipped", proxies, "10.1.2.3:4000", []string{"198.51.100.7, 192.0.2.1, 10.9.9.9"}, "198.51.100.7"},
		{"hops over several headers", proxies, "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.7", "10.9.9.9"}, "198.51.100.7"},
		{"every hop trusted: the leftmost", proxies, "10.1.2.3:4000", []string{"10.7.7.7, 10.8.8.8"}, "10.7.7.7"},
		{"garbage stops at the trusted hop to its right", proxies, "10.1.2.3:4000", []string{"6.6.6.6, not-an-ip, 10.8.8.8"}, "10.8.8.8"},
		{"IPv6 peer and hop", proxies, "[2001:db8::1]:4000", []string{"2001:db8:ffff::2, 2a00:1450::9"}, "2a00:1450::9"},
		{"IPv4-mapped hop unmapped", proxies, "10.1.2.3:4000", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped peer trusted", proxies, "[::ffff:10.1.2.3]:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"single trusted address", proxies, "192.0.2.1:80", []string{"198.51.100.8"}, "198.51.100.8"},
		{"neighbour of a single address untrusted", proxies, "192.0.2.2:80", []string{"198.51.100.8"}, "192.0.2.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := tc.proxies.Client(r); got != netip.MustParseAddr(tc.want) {
				t.Errorf("Client = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseProxiesRejectsJunk(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8,nope", "1.2.3"} {
		if _, err := ParseProxies(s); err == nil {
			t.Errorf("ParseProxies(%q) accepted it", s)
		}
	}
	if p, err := ParseProxies(""); err != nil || len(p.nets) != 0 {
		t.Errorf(`ParseProxies("") = %v, %v`, p, err)
	}
}
