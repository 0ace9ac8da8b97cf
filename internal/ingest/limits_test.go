package ingest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/ingest"
)

// filler is a body of left bytes produced on demand, so that a body over
// the 10 MiB limit costs the test no memory.
type filler struct{ left int64 }

var fillerBlock = bytes.Repeat([]byte("x"), 32<<10)

func (f *filler) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), f.left)], fillerBlock)
	f.left -= int64(n)
	return n, nil
}

// onlyReader hides every method but Read, so that net/http cannot learn
// the length of the body and sends it chunked.
type onlyReader struct{ io.Reader }

func TestIngestDefaultBodyLimit(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src := n.newSource(t, nil)
	const size = ingest.DefaultMaxBodyBytes + 1

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  hookRequest
		}{
			{"content-length", hookRequest{Body: &filler{left: size}, Length: size}},
			{"chunked", hookRequest{Body: onlyReader{&filler{left: size}}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				msg := refused(t, n.hook(t, src.IngestionID, tc.req), http.StatusRequestEntityTooLarge)
				if !strings.Contains(msg, fmt.Sprint(ingest.DefaultMaxBodyBytes)) {
					t.Errorf("message %q does not state the limit", msg)
				}
			})
		}
	})
	if got := n.total(t, src.ID); got != 0 {
		t.Fatalf("%d events stored from oversized bodies", got)
	}
}

func TestIngestConfiguredBodyLimit(t *testing.T) {
	t.Parallel()
	n := setup(t)
	const limit = 1024
	d := n.direct(t, ingest.Config{MaxBodyBytes: limit}, nil)

	for _, tc := range []struct {
		name string
		req  hookRequest
		want int
	}{
		{"at the limit with content-length", hookRequest{Body: bytes.NewReader(bytes.Repeat([]byte("a"), limit))}, 202},
		{"at the limit chunked", hookRequest{Body: onlyReader{bytes.NewReader(bytes.Repeat([]byte("b"), limit))}}, 202},
		{"one over with content-length", hookRequest{Body: bytes.NewReader(bytes.Repeat([]byte("c"), limit+1))}, 413},
		{"one over chunked", hookRequest{Body: onlyReader{bytes.NewReader(bytes.Repeat([]byte("d"), limit+1))}}, 413},
		{"far over chunked", hookRequest{Body: onlyReader{&filler{left: 1 << 20}}}, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sendHook(t, d.url, d.src.IngestionID, tc.req)
			if tc.want == 202 {
				e := n.event(t, accepted(t, r).EventID)
				if len(e.RawBody) != limit {
					t.Errorf("stored %d bytes, want %d", len(e.RawBody), limit)
				}
				return
			}
			refused(t, r, tc.want)
		})
	}
	if got := n.total(t, d.src.ID); got != 2 {
		t.Fatalf("%d events stored, want the 2 within the limit", got)
	}
}
