package egress

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults for TransportConfig and the fixed transport settings.
const (
	defaultDialTimeout         = 5 * time.Second
	defaultMaxIdleConnsPerHost = 256
	tlsHandshakeTimeout        = 10 * time.Second
	idleConnTimeout            = 90 * time.Second
	keepAlive                  = 30 * time.Second
	expectContinueTimeout      = 1 * time.Second
	// maxResponseHeaderBytes bounds what a hostile receiver can make us
	// buffer; real webhook responses carry a few hundred bytes of headers.
	maxResponseHeaderBytes = 1 << 20
)

// Control is a net.Dialer Control function. It runs after DNS resolution,
// just before each connect, with the address actually being dialled, so DNS
// rebinding (a name that resolved to a public address at save time and to
// 169.254.169.254 now) cannot bypass the policy. An address it cannot parse,
// such as a Unix socket path, is refused. The error wraps ErrBlocked and
// surfaces through *net.OpError and *url.Error.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot judge %s address %q", ErrBlocked, network, address)
	}
	return p.CheckAddr(ap.Addr())
}

// TransportConfig tunes NewTransport. The zero value gives the defaults.
type TransportConfig struct {
	// DialTimeout bounds establishing one TCP connection, DNS included.
	// Zero or negative means 5s. The whole attempt is bounded separately
	// by the request's context.
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is how many idle keep-alive connections are kept
	// per destination host. It must cover the deliveries in flight to one
	// host, or every burst opens and closes connections. Zero or negative
	// means 256.
	MaxIdleConnsPerHost int
	// RootCAs are the certificate authorities HTTPS destinations are
	// verified against; nil means the system's.
	RootCAs *x509.CertPool
	// InsecureSkipVerify turns certificate verification off: only for the
	// destinations that opted out explicitly.
	InsecureSkipVerify bool
}

// NewTransport returns an *http.Transport for deliveries that connects only
// where p allows. Its dialer uses p.Control; Proxy is nil because an
// environment proxy would make the connect-time check judge the proxy
// instead of the destination; HTTP/2 is attempted; the TLS handshake is
// bounded to 10s and idle connections close after 90s. The total number of
// idle connections is not capped, because the delivery workers already bound
// it and a global cap would churn connections between busy destinations.
// Pair it with NoRedirect in the http.Client. A nil p, like an empty
// allow-list, lets only public addresses through.
func NewTransport(p *Policy, cfg TransportConfig) *http.Transport {
	dialTimeout := cfg.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = defaultDialTimeout
	}
	perHost := cfg.MaxIdleConnsPerHost
	if perHost <= 0 {
		perHost = defaultMaxIdleConnsPerHost
	}
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: keepAlive,
		Control:   p.Control,
	}
	return &http.Transport{
		Proxy: nil,
		// Certificates are verified (against RootCAs) unless this
		// transport is the explicit opt-out's.
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12},
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    perHost,
		IdleConnTimeout:        idleConnTimeout,
		ExpectContinueTimeout:  expectContinueTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
}

// NoRedirect is an http.Client CheckRedirect function that never follows a
// redirect: a webhook's 3xx is a failed attempt, and following it would also
// send the payload and signature to a URL nobody validated. The client then
// returns the 3xx response itself with a nil error.
func NoRedirect(_ *http.Request, _ []*http.Request) error {
	return http.ErrUseLastResponse
}
