package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Reconnection backoff of listen: 0.5 s doubling to 30 s, each wait
// jittered to 50–100% of its step, back to 0.5 s after a stream that
// delivered its ready message.
const (
	listenBackoffMin = 500 * time.Millisecond
	listenBackoffMax = 30 * time.Second
	forwardTimeout   = 10 * time.Second
)

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("listen", "listen --source ID [--source ID…] --forward-to URL", stderr)
	var cf clientFlags
	cf.register(fs)
	var sources []string
	fs.Func("source", "a source's id or ingestion id (src_…); repeat it, or separate with commas, for several", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				sources = append(sources, s)
			}
		}
		return nil
	})
	forwardTo := fs.String("forward-to", "", "the local URL each event is sent to (required), e.g. http://localhost:3000/webhooks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(sources) == 0 || *forwardTo == "" {
		fs.Usage()
		return usageError{"listen: --source and --forward-to are required"}
	}
	target, err := url.Parse(*forwardTo)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return usageError{fmt.Sprintf("listen: --forward-to %q is not an http(s) URL", *forwardTo)}
	}
	api, _, err := cf.newAPIClient()
	if err != nil {
		return err
	}
	l := &listener{
		api: api, sources: sources, target: target, out: stdout, log: stderr, json: cf.json,
		stream:  &http.Client{}, // no timeout: the stream stays open
		forward: &http.Client{Timeout: forwardTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	fmt.Fprintf(stderr, "Forwarding events of %s to %s (Ctrl-C to stop)\n", strings.Join(sources, ", "), target)
	return l.run(ctx)
}

// listener follows the stream and forwards each event once.
type listener struct {
	api     *apiClient
	sources []string
	target  *url.URL
	out     io.Writer // one line (or JSON object) per event
	log     io.Writer // connection news
	json    bool
	stream  *http.Client
	forward *http.Client
	lastID  string // the stream position to resume after
}

// run reads the stream until ctx ends, reconnecting with backoff.
func (l *listener) run(ctx context.Context) error {
	backoff := listenBackoffMin
	for {
		ready, err := l.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var ae authError
		var apiErr *apiError
		if errors.As(err, &ae) || errors.As(err, &apiErr) && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests {
			return fmt.Errorf("listen: %w", err)
		}
		if ready {
			backoff = listenBackoffMin
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		fmt.Fprintf(l.log, "Stream interrupted (%v); reconnecting in %s\n", err, wait.Round(10*time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// streamEvent is the data of an "event" message of GET /api/stream.
type streamEvent struct {
	ID           uint64              `json:"id"`
	EventID      string              `json:"event_id"`
	SourceID     uint64              `json:"source_id"`
	SourceSlug   string              `json:"source_slug"`
	Method       string              `json:"method"`
	Query        string              `json:"query"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"body_encoding"`
	CreatedAt    time.Time           `json:"created_at"`
}

// follow reads one connection of the stream; ready reports whether the
// server accepted it.
func (l *listener) follow(ctx context.Context) (ready bool, err error) {
	q := url.Values{"source_id": l.sources}
	req, err := http.NewRequestWithContext(ctx, "GET", l.api.base+"/api/stream?"+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+l.api.token)
	req.Header.Set("Accept", "text/event-stream")
	if l.lastID != "" {
		req.Header.Set("Last-Event-ID", l.lastID)
	}
	resp, err := l.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return false, authError{"the server refused the saved token (revoked or expired): run `volley login`"}
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return false, &apiError{Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // an event line carries its whole body
	var id, event string
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "ready" && !ready {
				ready = true
				fmt.Fprintln(l.log, "Ready: connected to", l.api.base)
			}
			if event == "event" {
				l.handle(ctx, data.Bytes())
			}
			if id != "" && (event == "event" || event == "ready") {
				l.lastID = id // only after the event was handled
			}
			id, event = "", ""
			data.Reset()
		case strings.HasPrefix(line, ":"): // heartbeat
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(line[5:], " "))
		}
	}
	if err := sc.Err(); err != nil {
		return ready, err
	}
	return ready, io.ErrUnexpectedEOF
}

// forwardResult is one line of listen's output.
type forwardResult struct {
	Time       time.Time `json:"time"`
	EventID    string    `json:"event_id"`
	Method     string    `json:"method"`
	Status     int       `json:"status"` // 0 when the local server did not answer
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// handle forwards one event and prints its line; a failing local server
// is reported and the stream goes on.
func (l *listener) handle(ctx context.Context, data []byte) {
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		fmt.Fprintf(l.log, "skipped an event the CLI cannot read: %v\n", err)
		return
	}
	res := l.forwardEvent(ctx, &ev)
	if l.json {
		printJSON(l.out, res)
		return
	}
	status := fmt.Sprint(res.Status)
	if res.Error != "" {
		status = "ERR " + res.Error
	}
	fmt.Fprintf(l.out, "%s  %-6s %s  %dms  %s\n", res.Time.Local().Format("15:04:05"), res.Method, status, res.DurationMS, res.EventID)
}

// hopHeaders are not forwarded: the local request has its own framing.
var hopHeaders = map[string]bool{"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true}

func (l *listener) forwardEvent(ctx context.Context, ev *streamEvent) forwardResult {
	start := time.Now()
	res := forwardResult{Time: start, EventID: ev.EventID, Method: ev.Method}
	body := []byte(ev.Body)
	if ev.BodyEncoding == "base64" {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			res.Error = "undecodable body: " + err.Error()
			return res
		}
		body = b
	}
	u := *l.target
	if ev.Query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += ev.Query
	}
	req, err := http.NewRequestWithContext(ctx, ev.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	for k, vs := range ev.Headers {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			req.Header[http.CanonicalHeaderKey(k)] = vs
		}
	}
	req.Header.Set("X-Volley-Event-ID", ev.EventID)
	req.Header.Set("X-Volley-Source-ID", fmt.Sprint(ev.SourceID))
	req.Header.Set("X-Volley-Source-Slug", ev.SourceSlug)
	resp, err := l.forward.Do(req)
	res.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		res.Error = "local server: " + shortNetError(err)
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	res.Status = resp.StatusCode
	return res
}

// shortNetError keeps the end of a transport error ("connection refused"),
// which is what a person needs to read.
func shortNetError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 60 {
		return s[i+2:]
	}
	return s
}
