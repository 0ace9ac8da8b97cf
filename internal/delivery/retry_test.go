package delivery

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// almostOne is the largest rnd a uniform [0, 1) source can return.
var almostOne = math.Nextafter(1, 0)

func TestRetryPolicyWait(t *testing.T) {
	t.Parallel()
	sched := []time.Duration{time.Second, 4 * time.Second, 10 * time.Second}
	tests := []struct {
		name   string
		policy RetryPolicy
		n      int
		rnd    float64
		want   time.Duration
	}{
		{"first retry", RetryPolicy{Schedule: sched}, 1, 0.5, time.Second},
		{"second retry", RetryPolicy{Schedule: sched}, 2, 0.5, 4 * time.Second},
		{"last entry", RetryPolicy{Schedule: sched}, 3, 0.5, 10 * time.Second},
		{"last entry repeats", RetryPolicy{Schedule: sched}, 4, 0.5, 10 * time.Second},
		{"last entry repeats far out", RetryPolicy{Schedule: sched}, 100, 0.5, 10 * time.Second},
		{"no jitter ignores rnd", RetryPolicy{Schedule: sched}, 2, 0, 4 * time.Second},
		{"jitter low bound at rnd 0", RetryPolicy{Schedule: sched, Jitter: 0.25}, 2, 0, 3 * time.Second},
		{"jitter midpoint", RetryPolicy{Schedule: sched, Jitter: 0.25}, 2, 0.5, 4 * time.Second},
		{"jitter on repeated entry", RetryPolicy{Schedule: sched, Jitter: 0.5}, 7, 0, 5 * time.Second},
		{"n 0 is not a retry", RetryPolicy{Schedule: sched}, 0, 0.5, 0},
		{"negative n", RetryPolicy{Schedule: sched}, -1, 0.5, 0},
		{"empty schedule", RetryPolicy{}, 1, 0.5, 0},
		{"default schedule first", RetryPolicy{Schedule: DefaultSchedule}, 1, 0.5, 5 * time.Second},
		{"default schedule fifth", RetryPolicy{Schedule: DefaultSchedule}, 5, 0.5, 30 * time.Minute},
		{"default schedule cap", RetryPolicy{Schedule: DefaultSchedule}, 50, 0.5, 12 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.policy.Wait(tt.n, tt.rnd); got != tt.want {
				t.Errorf("Wait(%d, %v) = %v, want %v", tt.n, tt.rnd, got, tt.want)
			}
		})
	}
}

// TestRetryPolicyWaitJitterBounds checks that the jitter spans exactly
// ±Jitter: the low end is reached at rnd 0, the high end approached (never
// passed) as rnd goes to 1.
func TestRetryPolicyWaitJitterBounds(t *testing.T) {
	t.Parallel()
	for _, jitter := range []float64{0.25, DefaultJitter, 0.5, 0.9} {
		p := RetryPolicy{Schedule: DefaultSchedule, Jitter: jitter}
		for n := 1; n <= len(DefaultSchedule)+1; n++ {
			base := DefaultSchedule[min(n, len(DefaultSchedule))-1]
			lo := time.Duration(float64(base) * (1 - jitter))
			hi := time.Duration(float64(base) * (1 + jitter))
			if got := p.Wait(n, 0); absDur(got-lo) > time.Microsecond {
				t.Errorf("jitter %v, retry %d: Wait(rnd=0) = %v, want %v", jitter, n, got, lo)
			}
			got := p.Wait(n, almostOne)
			if got > hi || hi-got > time.Microsecond {
				t.Errorf("jitter %v, retry %d: Wait(rnd→1) = %v, want just under %v", jitter, n, got, hi)
			}
			for _, rnd := range []float64{0.1, 0.37, 0.5, 0.99} {
				if w := p.Wait(n, rnd); w < lo || w > hi {
					t.Errorf("jitter %v, retry %d: Wait(%v) = %v outside [%v, %v]", jitter, n, rnd, w, lo, hi)
				}
			}
		}
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestRetryPolicyDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := RetryPolicy{Schedule: []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute}}
	failed := func(code int) *volley.Attempt {
		return &volley.Attempt{Status: volley.AttemptFailed, StatusCode: code}
	}
	ok := &volley.Attempt{Status: volley.AttemptSuccess, StatusCode: http.StatusOK}
	retryAt := func(d time.Duration) Decision { return Decision{State: volley.DeliveryPending, Next: now.Add(d)} }
	final := Decision{State: volley.DeliveryFailed}
	tests := []struct {
		name       string
		policy     RetryPolicy
		n, max     int
		a          *volley.Attempt
		retryAfter time.Duration
		want       Decision
	}{
		{"success", p, 1, 5, ok, 0, Decision{State: volley.DeliverySuccess}},
		{"success on the last allowed attempt", p, 4, 3, ok, 0, Decision{State: volley.DeliverySuccess}},
		{"202 is success", p, 1, 0, &volley.Attempt{Status: volley.AttemptSuccess, StatusCode: 202}, 0, Decision{State: volley.DeliverySuccess}},
		{"max_retries 0: first failure is final", p, 1, 0, failed(500), 0, final},
		{"max_retries 3: first failure retries", p, 1, 3, failed(500), 0, retryAt(5 * time.Second)},
		{"max_retries 3: third failure retries", p, 3, 3, failed(500), 0, retryAt(2 * time.Minute)},
		{"max_retries 3: fourth failure is final", p, 4, 3, failed(500), 0, final},
		{"past max_retries is final", p, 9, 3, failed(500), 0, final},
		{"no response retries", p, 1, 1, failed(0), 0, retryAt(5 * time.Second)},
		{"410 stops at once", p, 1, 5, failed(http.StatusGone), 0, final},
		{"410 stops even with retry-after", p, 1, 5, failed(http.StatusGone), time.Hour, final},
		{"404 retries", p, 1, 5, failed(http.StatusNotFound), 0, retryAt(5 * time.Second)},
		{"429 longer retry-after lengthens", p, 1, 5, failed(http.StatusTooManyRequests), time.Minute, retryAt(time.Minute)},
		{"503 longer retry-after lengthens", p, 2, 5, failed(http.StatusServiceUnavailable), 10 * time.Minute, retryAt(10 * time.Minute)},
		{"429 shorter retry-after does not shorten", p, 2, 5, failed(http.StatusTooManyRequests), time.Second, retryAt(30 * time.Second)},
		{"503 equal retry-after keeps the plan", p, 1, 5, failed(http.StatusServiceUnavailable), 5 * time.Second, retryAt(5 * time.Second)},
		{"429 retry-after capped at 24h", p, 1, 5, failed(http.StatusTooManyRequests), 72 * time.Hour, retryAt(MaxRetryAfter)},
		{"500 ignores retry-after", p, 1, 5, failed(http.StatusInternalServerError), time.Hour, retryAt(5 * time.Second)},
		{"502 ignores retry-after", p, 1, 5, failed(http.StatusBadGateway), time.Hour, retryAt(5 * time.Second)},
		{"429 retry-after still honours max_retries", p, 1, 0, failed(http.StatusTooManyRequests), time.Minute, final},
		{"jittered plan", RetryPolicy{Schedule: p.Schedule, Jitter: 0.5}, 1, 5, failed(500), 0, retryAt(2500 * time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.policy.Decide(tt.n, tt.max, tt.a, tt.retryAfter, now, 0)
			if got != tt.want {
				t.Errorf("Decide(n=%d, max_retries=%d, code %d, retry-after %v) = %+v, want %+v",
					tt.n, tt.max, tt.a.StatusCode, tt.retryAfter, got, tt.want)
			}
		})
	}
}

// TestRetryPolicyDecideCountsAttempts walks a delivery that always fails
// through the policy: max_retries m means exactly m+1 attempts.
func TestRetryPolicyDecideCountsAttempts(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Schedule: DefaultSchedule, Jitter: DefaultJitter}
	now := time.Unix(1_700_000_000, 0)
	for _, maxRetries := range []int{0, 1, 3, 5, 12} {
		attempts := 0
		for {
			attempts++
			d := p.Decide(attempts, maxRetries, &volley.Attempt{Status: volley.AttemptFailed, StatusCode: 503}, 0, now, 0.5)
			if d.State == volley.DeliveryFailed {
				break
			}
			if d.State != volley.DeliveryPending || !d.Next.After(now) {
				t.Fatalf("max_retries %d, attempt %d: %+v, want a later retry", maxRetries, attempts, d)
			}
			if attempts > 100 {
				t.Fatalf("max_retries %d: still retrying after 100 attempts", maxRetries)
			}
		}
		if attempts != maxRetries+1 {
			t.Errorf("max_retries %d: %d attempts, want %d", maxRetries, attempts, maxRetries+1)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"empty", "", 0},
		{"blank", "   ", 0},
		{"seconds", "120", 2 * time.Minute},
		{"one second", "1", time.Second},
		{"padded seconds", " 7 ", 7 * time.Second},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"capped at 24h", "999999999", MaxRetryAfter},
		{"exactly 24h", "86400", 24 * time.Hour},
		{"fraction is garbage", "1.5", 0},
		{"garbage", "soon", 0},
		{"units are garbage", "30s", 0},
		{"http date in the future", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"rfc 850 date in the future", now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{"asctime date in the future", now.Add(3 * time.Second).Format(time.ANSIC), 3 * time.Second},
		{"http date far in the future is capped", now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{"http date now", now.Format(http.TimeFormat), 0},
		{"http date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"rfc 3339 is not an http date", now.Add(time.Hour).Format(time.RFC3339), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []time.Duration
		wantErr string
	}{
		{in: "5s", want: []time.Duration{5 * time.Second}},
		{in: "5s,30s,2m", want: []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute}},
		{in: " 100ms , 1h30m ", want: []time.Duration{100 * time.Millisecond, 90 * time.Minute}},
		{in: "1s,,2s,", want: []time.Duration{time.Second, 2 * time.Second}},
		{in: "", wantErr: "no durations"},
		{in: " , ,", wantErr: "no durations"},
		{in: "5", wantErr: `"5" is not a positive duration`},
		{in: "5s,soon", wantErr: `"soon" is not a positive duration`},
		{in: "0s", wantErr: `"0s" is not a positive duration`},
		{in: "5s,-1s", wantErr: `"-1s" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSchedule(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSchedule(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
				}
			}
		})
	}
}

// TestParseScheduleRoundTrip checks that the default schedule, written the
// way an operator would, parses back to itself.
func TestParseScheduleRoundTrip(t *testing.T) {
	t.Parallel()
	parts := make([]string, len(DefaultSchedule))
	for i, d := range DefaultSchedule {
		parts[i] = d.String()
	}
	got, err := ParseSchedule(strings.Join(parts, ","))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(DefaultSchedule) {
		t.Fatalf("got %v, want %v", got, DefaultSchedule)
	}
	for i := range got {
		if got[i] != DefaultSchedule[i] {
			t.Fatalf("got %v, want %v", got, DefaultSchedule)
		}
	}
}
