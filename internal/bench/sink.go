package bench

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// sink is the destination of the benchmark: it answers 200 at once and
// records when each event first arrived.
type sink struct {
	srv      *http.Server
	url      string
	mu       sync.Mutex
	arrived  map[string]time.Time
	requests int
	notify   chan struct{}
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/hook", arrived: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		now := time.Now()
		id := r.Header.Get("X-Volley-Event-Id")
		s.mu.Lock()
		s.requests++
		if _, seen := s.arrived[id]; !seen {
			s.arrived[id] = now
		}
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusOK)
	})}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrived)
}

func (s *sink) at(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.arrived[id]
	return t, ok
}

func (s *sink) reset() {
	s.mu.Lock()
	s.arrived = map[string]time.Time{}
	s.requests = 0
	s.mu.Unlock()
}

func (s *sink) close() { s.srv.Close() }

// bare is the ceiling: a Go net/http server that reads the body and answers
// 202 with an event id, doing nothing else.
func startBare() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"event_id":"evt_0000000000000000000000","status":"accepted"}`+"\n")
	})}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String() + "/hook/x", nil
}
