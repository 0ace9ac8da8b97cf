package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/volley"
)

// hopHeaders are not forwarded: they describe one connection, not the
// message (RFC 9110 §7.6.1), or are recomputed by the HTTP client.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Content-Length": true,
}

// outboundHeaders builds the headers of an attempt: the event's own headers
// minus hop-by-hop ones, then the destination's static headers, then
// Volley's and the Standard Webhooks headers, which nothing may override.
func outboundHeaders(ev *eventView, d *volley.Delivery, dest *routing.Destination, attempt int, now time.Time, userAgent string) http.Header {
	h := make(http.Header, len(ev.headers)+8)
	connHop := map[string]bool{}
	for _, v := range ev.headers.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			connHop[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for k, vs := range ev.headers {
		if hopHeaders[k] || connHop[k] || strings.HasPrefix(k, "X-Volley-") || strings.HasPrefix(k, "Webhook-") {
			continue
		}
		h[k] = vs
	}
	for k, v := range dest.Headers {
		h.Set(k, v)
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", userAgent)
	}
	h.Set("X-Volley-Event-Id", d.EventUID)
	h.Set("X-Volley-Source-Id", strconv.FormatUint(d.SourceID, 10))
	h.Set("X-Volley-Delivery-Id", strconv.FormatUint(d.ID, 10))
	h.Set("X-Volley-Attempt", strconv.Itoa(attempt))
	id, ts := d.WebhookID(), now.Unix()
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", strconv.FormatInt(ts, 10))
	h.Set("Webhook-Signature", signature.Sign(dest.SigningKeys, id, ts, ev.body))
	return h
}

// eventView is what an attempt needs from its event, as its
// connection's transformation may have changed it.
type eventView struct {
	method  string
	path    string // appended to the destination URL's path; "" for none
	query   string
	headers http.Header
	body    []byte
	// traceParent is the W3C trace context the event was committed in;
	// "" without tracing.
	traceParent string
}

// newAttempt returns a failed attempt of d started at start, to be filled
// in.
func (e *Engine) newAttempt(d *volley.Delivery, number int, start time.Time) volley.Attempt {
	return volley.Attempt{
		DeliveryID: d.ID, EventID: d.EventID, EventUID: d.EventUID, ProjectID: d.ProjectID, SourceID: d.SourceID,
		ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, Number: number, Trigger: volley.AttemptAuto,
		Status: volley.AttemptFailed, CreatedAt: start.UTC(),
	}
}

// targetURL appends a path (set by a transformation) to the destination
// URL's path, and the event's query string to its query.
func targetURL(dest, path, query string) string {
	if path != "" {
		if u, err := url.Parse(dest); err == nil {
			u.Path = strings.TrimSuffix(u.Path, "/") + path
			u.RawPath = ""
			dest = u.String()
		}
	}
	if query == "" {
		return dest
	}
	if strings.Contains(dest, "?") {
		return dest + "&" + query
	}
	return dest + "?" + query
}

// result is the outcome of one HTTP request.
type result struct {
	attempt    volley.Attempt
	retryAfter time.Duration
}

// send performs one attempt: the request, the response capture and the
// classification into success or a failure a person can read. start is
// when the attempt started, as its rate limits granted it: the attempt is
// stamped with it, so that the limits can be checked on what the engine
// decided rather than on when the machine got round to each request.
func (e *Engine) send(ctx context.Context, ev *eventView, d *volley.Delivery, dest *routing.Destination, number int, start time.Time) result {
	timeout := e.cfg.Timeout
	if dest.TimeoutMS > 0 {
		timeout = time.Duration(dest.TimeoutMS) * time.Millisecond
	}
	a := e.newAttempt(d, number, start)
	// The duration is measured from before the timeout starts, so that an
	// attempt that timed out never reports less than its timeout.
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := ev.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, targetURL(dest.URL, ev.path, ev.query), bytes.NewReader(ev.body))
	if err != nil {
		a.ErrorReason = "invalid request: " + err.Error()
		return result{attempt: a}
	}
	req.Header = outboundHeaders(ev, d, dest, number, start, e.cfg.UserAgent)
	if dest.ForwardTraceParent {
		forwardTrace(ctx, req.Header)
	}
	resp, err := e.clientFor(dest).Do(req)
	if err != nil {
		a.DurationMS = time.Since(t0).Milliseconds()
		a.ErrorReason = reason(err, timeout)
		return result{attempt: a}
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, volley.MaxResponseBody))
	// Drain a little more so the connection can be reused; a receiver that
	// sends more than that pays with a new connection.
	io.CopyN(io.Discard, resp.Body, volley.MaxResponseBody)
	resp.Body.Close()
	a.DurationMS = time.Since(t0).Milliseconds()
	a.StatusCode = resp.StatusCode
	a.ResponseHeaders = resp.Header
	a.ResponseBody = body
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		a.Status = volley.AttemptSuccess
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.ErrorReason = fmt.Sprintf("HTTP %d: redirect not followed", resp.StatusCode)
		if loc := resp.Header.Get("Location"); loc != "" {
			a.ErrorReason += " (Location: " + loc + ")"
		}
	default:
		a.ErrorReason = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	if readErr != nil && a.Status == volley.AttemptSuccess {
		// The receiver said 2xx; a broken body after that does not undo it.
		a.ErrorReason = ""
	}
	return result{attempt: a, retryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), start)}
}

// reason turns a transport error into a short explanation.
func reason(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, egress.ErrBlocked):
		return "blocked by egress policy: " + strings.TrimPrefix(innermost(err), egress.ErrBlocked.Error()+": ")
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout after " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "cancelled: the server is shutting down"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "dns: no such host " + dnsErr.Name
		}
		return "dns: " + dnsErr.Err + " for " + dnsErr.Name
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certErr):
		return "tls: certificate not trusted: " + innermost(err)
	case errors.As(err, &recordErr), errors.Is(err, http.ErrSchemeMismatch):
		// net/http turns the record error into ErrSchemeMismatch when the
		// port answered in plain HTTP, the usual way to get here.
		return "tls: the destination does not speak TLS on this port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a response"
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

// clientFor returns the HTTP client of dest: the verifying one, or for a
// destination that opted out of certificate verification the insecure one,
// with a warning the first time this process uses it for that destination.
func (e *Engine) clientFor(dest *routing.Destination) *http.Client {
	if !dest.InsecureSkipVerify {
		return e.client
	}
	if _, seen := e.warned.LoadOrStore(dest.ID, true); !seen {
		e.log.Warn("delivering without TLS certificate verification (insecure_skip_verify)", "destination_id", dest.ID)
	}
	return e.insecure
}

// innermost returns the message of the deepest wrapped error.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		if next == egress.ErrBlocked {
			return err.Error()
		}
		err = next
	}
}
