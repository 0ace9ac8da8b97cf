package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

type cursorPage struct {
	Requests []struct {
		EventID string `json:"event_id"`
	} `json:"requests"`
	Attempts []struct {
		ID uint64 `json:"id"`
	} `json:"attempts"`
	Total    int64  `json:"total"`
	Estimate bool   `json:"total_is_estimate"`
	Next     string `json:"next_cursor"`
	Prev     string `json:"prev_cursor"`
}

func (p cursorPage) uids() []string {
	out := []string{}
	for _, r := range p.Requests {
		out = append(out, r.EventID)
	}
	return out
}

// seedSetup starts a node and creates a source in the admin's default
// project.
func seedSetup(t *testing.T) (srv *testserver.Server, c *caller, projectID, sourceID uint64) {
	t.Helper()
	srv = testserver.Start(t, testserver.Options{})
	c = callerOf(srv, testserver.AdminToken)
	projectID = srv.AdminAccount().ProjectID
	var src struct {
		ID uint64 `json:"id"`
	}
	c.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", projectID), map[string]any{"name": "Seed"}).JSON(t, &src)
	return srv, c, projectID, src.ID
}

// seedEvents stores n events on a source straight through the store, a
// second apart, and returns their ids oldest first.
func seedEvents(t *testing.T, srv *testserver.Server, projectID, sourceID uint64, n int, at time.Time) []string {
	t.Helper()
	var uids []string
	for start := 0; start < n; start += 1000 {
		var batch []store.NewEvent
		for i := start; i < min(n, start+1000); i++ {
			uid := fmt.Sprintf("evt_seed%018d", i)
			uids = append(uids, uid)
			batch = append(batch, store.NewEvent{Event: volley.Event{UID: uid, ProjectID: projectID, SourceID: sourceID,
				Method: "POST", Headers: http.Header{}, Body: []byte(`{}`), CreatedAt: at.Add(time.Duration(i) * time.Second)}})
		}
		if _, err := srv.Store.EventInsert(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	return uids
}

// TestListCursors: event and attempt lists page by cursor as well as by
// offset: following next_cursor walks the whole list in order, prev_cursor
// walks back, and a cursor of another list or order is refused.
func TestListCursors(t *testing.T) {
	t.Parallel()
	srv, c, pid, srcID := seedSetup(t)
	uids := seedEvents(t, srv, pid, srcID, 23, time.Now().Add(-time.Hour).UTC())
	newest := slices.Clone(uids)
	slices.Reverse(newest)

	base := fmt.Sprintf("/api/projects/%d/requests?limit=5", pid)
	get := func(query string) cursorPage {
		t.Helper()
		var p cursorPage
		c.must(t, http.StatusOK, "GET", base+query, nil).JSON(t, &p)
		return p
	}
	// Forward, by cursor.
	var walked []string
	var pages []cursorPage
	p := get("")
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("next_cursor never ran out")
		}
		walked = append(walked, p.uids()...)
		pages = append(pages, p)
		if p.Total != 23 || p.Estimate {
			t.Errorf("page %d: total %d (estimate %v), want exactly 23", i, p.Total, p.Estimate)
		}
		if p.Next == "" {
			break
		}
		p = get("&after=" + url.QueryEscape(p.Next))
	}
	if !slices.Equal(walked, newest) {
		t.Fatalf("walking next_cursor gave %v, want %v", walked, newest)
	}
	// The same pages as by offset.
	for i, pg := range pages {
		if got := get(fmt.Sprintf("&offset=%d", 5*i)).uids(); !slices.Equal(got, pg.uids()) {
			t.Errorf("page %d by offset = %v, by cursor %v", i, got, pg.uids())
		}
	}
	// Backward from the last page, by prev_cursor.
	last := pages[len(pages)-1]
	back := get("&before=" + url.QueryEscape(last.Prev))
	if want := pages[len(pages)-2].uids(); !slices.Equal(back.uids(), want) {
		t.Errorf("before the last page: %v, want %v", back.uids(), want)
	}
	if first := get("&before=" + url.QueryEscape(pages[1].Prev)); !slices.Equal(first.uids(), pages[0].uids()) {
		t.Errorf("before the second page: %v, want the first %v", first.uids(), pages[0].uids())
	}
	// Filters apply to cursor pages too.
	if got := get(fmt.Sprintf("&source_id=%d&after=%s", srcID, url.QueryEscape(pages[0].Next))).uids(); !slices.Equal(got, pages[1].uids()) {
		t.Errorf("with a source filter: %v, want %v", got, pages[1].uids())
	}

	// Bad cursors.
	attempts := fmt.Sprintf("/api/projects/%d/delivery-attempts", pid)
	for _, path := range []string{
		base + "&after=nonsense",
		base + "&after=" + pages[0].Next + "&before=" + pages[0].Next,
		attempts + "?after=" + pages[0].Next,
	} {
		resp := c.do(t, "GET", path, nil)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400; body %s", path, resp.Status, resp.Body)
		}
	}
}

// TestListTotalCapped: past 10,000 matches a list stops counting: total is
// 10000 and total_is_estimate says so.
func TestListTotalCapped(t *testing.T) {
	t.Parallel()
	srv, c, pid, srcID := seedSetup(t)
	at := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	seedEvents(t, srv, pid, srcID, 10_001, at)
	var p cursorPage
	c.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/requests?limit=1", pid), nil).JSON(t, &p)
	if p.Total != 10_000 || !p.Estimate {
		t.Errorf("10,001 events: total %d, estimate %v; want 10000, true", p.Total, p.Estimate)
	}
	// The last 1,001 events, a second apart.
	var narrow cursorPage
	c.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/requests?limit=1&start_time=%s", pid,
		url.QueryEscape(at.Add(9000*time.Second).Format(time.RFC3339))), nil).JSON(t, &narrow)
	if narrow.Estimate || narrow.Total != 1001 {
		t.Errorf("a narrower window: total %d, estimate %v; want exactly 1001", narrow.Total, narrow.Estimate)
	}
}
