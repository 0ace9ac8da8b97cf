package egress

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// policies returns the allow-lists the CheckAddr tables run against.
func policies(t *testing.T) (def, none, ten, all *Policy) {
	t.Helper()
	return NewPolicy(DefaultAllow()),
		NewPolicy(nil),
		NewPolicy(mustAllow(t, "10.0.0.0/8")),
		NewPolicy(mustAllow(t, "0.0.0.0/0, ::/0"))
}

func mustAllow(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	allow, err := ParseAllowList(s)
	if err != nil {
		t.Fatalf("ParseAllowList(%q): %v", s, err)
	}
	return allow
}

// checkBlocked fails unless err is a policy refusal mentioning want.
func checkBlocked(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: allowed, want blocked (%q)", what, want)
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("%s: error %q does not wrap ErrBlocked", what, err)
	}
	if !strings.Contains(err.Error(), "blocked by egress policy") || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: error %q, want it to contain %q", what, err, want)
	}
}

func TestCheckAddrForbidden(t *testing.T) {
	t.Parallel()
	def, none, ten, all := policies(t)
	tests := []struct {
		addr string
		want string
	}{
		{"169.254.169.254", "169.254.169.254 is a link-local or metadata address"},
		{"169.254.0.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "fe80::1%eth0 is a link-local"},
		{"febf:ffff::1", "link-local"},
		{"fd00:ec2::254", "cloud metadata"},
		{"fd20:ce::254", "cloud metadata"},
		{"100.100.100.200", "cloud metadata"},
		{"192.0.0.192", "cloud metadata"},
		{"168.63.129.16", "cloud metadata"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"::2", "::2 embeds 0.0.0.2, an unspecified address"}, // IPv4-compatible
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"ff05::1:3", "multicast"},
		{"255.255.255.255", "the broadcast address"},
		// IPv4-mapped, IPv4-compatible, SIIT and NAT64 well-known prefix.
		{"::ffff:169.254.169.254", "::ffff:169.254.169.254 embeds 169.254.169.254, a link-local"},
		{"::ffff:a9fe:a9fe", "embeds 169.254.169.254"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"::ffff:224.0.0.1", "multicast"},
		{"::ffff:255.255.255.255", "broadcast"},
		{"::169.254.169.254", "embeds 169.254.169.254"},
		{"::a9fe:a9fe", "embeds 169.254.169.254"},
		{"::ffff:0:a9fe:a9fe", "embeds 169.254.169.254"},
		{"64:ff9b::169.254.169.254", "embeds 169.254.169.254"},
		{"64:ff9b::a9fe:a9fe", "embeds 169.254.169.254"},
		{"64:ff9b::e000:1", "multicast"},
		// Local-use NAT64, every RFC 6052 layout inside 64:ff9b:1::/48.
		{"64:ff9b:1:a9fe:a9:fe00::", "embeds 169.254.169.254"},             // /48
		{"64:ff9b:1:a9:fe:a9fe::", "embeds 169.254.169.254"},               // /56
		{"64:ff9b:1::a9:fea9:fe00:0", "embeds 169.254.169.254"},            // /64
		{"64:ff9b:1::a9fe:a9fe", "embeds 169.254.169.254"},                 // /96
		{"2002:a9fe:a9fe::1", "embeds 169.254.169.254"},                    // 6to4
		{"2001:0:a9fe:a9fe::1", "embeds 169.254.169.254"},                  // Teredo server
		{"2001:0:4136:e378:8000:63bf:5601:5601", "embeds 169.254.169.254"}, // Teredo client, inverted
	}
	policies := map[string]*Policy{"default": def, "none": none, "10/8": ten, "all": all}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		bare := a.WithZone("")
		eff := effective(bare)
		exact := NewPolicy([]netip.Prefix{netip.PrefixFrom(bare, bare.BitLen()), netip.PrefixFrom(eff, eff.BitLen())})
		for name, p := range policies {
			checkBlocked(t, tt.addr+" with "+name, p.CheckAddr(a), tt.want)
		}
		checkBlocked(t, tt.addr+" allow-listed exactly", exact.CheckAddr(a), tt.want)
	}
}

func TestCheckAddrNonPublic(t *testing.T) {
	t.Parallel()
	_, none, _, all := policies(t)
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1", "127.0.0.1 is a loopback address not in the allow-list"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"10.1.2.3", "10.1.2.3 is a private address not in the allow-list"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"192.0.0.8", "IETF protocol assignment"},
		{"192.0.2.1", "documentation"},
		{"198.51.100.1", "documentation"},
		{"203.0.113.1", "documentation"},
		{"192.88.99.1", "6to4 relay"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.254", "reserved"},
		{"fc00::1", "unique local"},
		{"fd12:3456::1", "unique local"},
		{"fec0::1", "site-local"},
		{"100::1", "discard-only"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"2001:2::1", "IETF protocol assignment"},
		{"5f00::1", "SRv6"},
		{"4000::1", "reserved"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1 embeds 127.0.0.1, a loopback address not in the allow-list"},
		{"::ffff:10.0.0.1", "embeds 10.0.0.1, a private address"},
		{"::10.0.0.1", "embeds 10.0.0.1, a private address"},
		{"64:ff9b::10.0.0.1", "embeds 10.0.0.1, a private address"},
		{"64:ff9b::7f00:1", "embeds 127.0.0.1, a loopback address"},
		{"64:ff9b:1::808:808", "local-use NAT64"},
		{"2002:808:808::1", "6to4 address"},
		{"2001:0:808:808::1", "Teredo"},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		checkBlocked(t, tt.addr+" with none", none.CheckAddr(a), tt.want)
		if err := all.CheckAddr(a); err != nil {
			t.Errorf("%s with 0.0.0.0/0 and ::/0 allowed: %v", tt.addr, err)
		}
		eff := effective(a)
		exact := NewPolicy([]netip.Prefix{netip.PrefixFrom(eff, eff.BitLen())})
		if err := exact.CheckAddr(a); err != nil {
			t.Errorf("%s with %s allowed: %v", tt.addr, eff, err)
		}
	}
}

func TestCheckAddrAllowLists(t *testing.T) {
	t.Parallel()
	def, none, ten, all := policies(t)
	var nilPolicy *Policy
	tests := []struct {
		name string
		p    *Policy
		addr string
		ok   bool
	}{
		{"default allows 127.0.0.1", def, "127.0.0.1", true},
		{"default allows 127.8.9.10", def, "127.8.9.10", true},
		{"default allows ::1", def, "::1", true},
		{"default allows mapped loopback", def, "::ffff:127.0.0.1", true},
		{"default allows NAT64 loopback", def, "64:ff9b::127.0.0.1", true},
		{"default refuses 10.0.0.1", def, "10.0.0.1", false},
		{"default refuses 192.168.0.1", def, "192.168.0.1", false},
		{"default refuses fd00::1", def, "fd00::1", false},
		{"default allows public v4", def, "93.184.216.34", true},
		{"default allows public v6", def, "2606:2800:220:1:248:1893:25c8:1946", true},
		{"default allows mapped public", def, "::ffff:93.184.216.34", true},
		{"default allows NAT64 public", def, "64:ff9b::93.184.216.34", true},
		{"none refuses loopback", none, "127.0.0.1", false},
		{"none refuses ::1", none, "::1", false},
		{"none allows public", none, "8.8.8.8", true},
		{"nil policy refuses loopback", nilPolicy, "127.0.0.1", false},
		{"nil policy allows public", nilPolicy, "8.8.8.8", true},
		{"zero policy refuses private", &Policy{}, "10.0.0.1", false},
		{"10/8 allows 10.1.2.3", ten, "10.1.2.3", true},
		{"10/8 allows mapped 10.1.2.3", ten, "::ffff:10.1.2.3", true},
		{"10/8 refuses 172.16.0.1", ten, "172.16.0.1", false},
		{"10/8 refuses loopback", ten, "127.0.0.1", false},
		{"10/8 never allows metadata", ten, "169.254.169.254", false},
		{"all allows private", all, "192.168.1.1", true},
		{"all never allows metadata", all, "169.254.169.254", false},
		{"all never allows mapped metadata", all, "::ffff:169.254.169.254", false},
		{"invalid address", def, "", false},
	}
	for _, tt := range tests {
		var a netip.Addr
		if tt.addr != "" {
			a = netip.MustParseAddr(tt.addr)
		}
		err := tt.p.CheckAddr(a)
		if tt.ok && err != nil {
			t.Errorf("%s: CheckAddr(%s) = %v, want nil", tt.name, tt.addr, err)
		}
		if !tt.ok && !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: CheckAddr(%s) = %v, want ErrBlocked", tt.name, tt.addr, err)
		}
	}
}

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "127.0.0.0/8,::1/128", want: []string{"127.0.0.0/8", "::1/128"}},
		{in: " 10.0.0.0/8 , 192.168.1.5 ,fd00::/8, ::1 ", want: []string{"10.0.0.0/8", "192.168.1.5/32", "fd00::/8", "::1/128"}},
		{in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{in: "::ffff:10.1.2.3", want: []string{"10.1.2.3/32"}},
		{in: "0.0.0.0/0,::/0", want: []string{"0.0.0.0/0", "::/0"}},
		{in: "10.0.0.0/8,banana", wantErr: `allow-list entry "banana": not an IP address or CIDR prefix`},
		{in: "10.0.0.0/33", wantErr: `allow-list entry "10.0.0.0/33": not a CIDR prefix`},
		{in: "10.1.2.3/8", wantErr: `allow-list entry "10.1.2.3/8": host bits are set; did you mean 10.0.0.0/8`},
		{in: "fe80::1%eth0", wantErr: "with a zone"},
		{in: "10.0.0.0/8 192.168.0.0/16", wantErr: `allow-list entry "10.0.0.0/8 192.168.0.0/16"`},
		{in: "010.0.0.1", wantErr: `allow-list entry "010.0.0.1"`},
	}
	for _, tt := range tests {
		got, err := ParseAllowList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAllowList(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllowList(%q): %v", tt.in, err)
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if !slices.Equal(gotS, tt.want) {
			t.Errorf("ParseAllowList(%q) = %v, want %v", tt.in, gotS, tt.want)
		}
	}
}

func TestNewPolicyNormalises(t *testing.T) {
	t.Parallel()
	allow := []netip.Prefix{
		{},                                  // invalid: ignored
		netip.MustParsePrefix("10.9.9.9/8"), // host bits masked
		netip.MustParsePrefix("::ffff:192.168.0.0/112"), // rewritten to 192.168.0.0/16
	}
	p := NewPolicy(allow)
	allow[1] = netip.MustParsePrefix("0.0.0.0/0") // the policy keeps its own copy
	for _, s := range []string{"10.200.0.1", "192.168.3.4", "::ffff:192.168.3.4"} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", s, err)
		}
	}
	if err := p.CheckAddr(netip.MustParseAddr("172.16.0.1")); !errors.Is(err, ErrBlocked) {
		t.Errorf("CheckAddr(172.16.0.1) = %v, want ErrBlocked", err)
	}
	if got := DefaultAllow(); len(got) != 2 || got[0].String() != "127.0.0.0/8" || got[1].String() != "::1/128" {
		t.Errorf("DefaultAllow() = %v", got)
	}
}
