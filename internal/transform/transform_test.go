package transform

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, cfg Config, code string, req *Request) (*Request, string, error) {
	t.Helper()
	p, err := Compile(code)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return NewRunner(cfg).Run(context.Background(), p, req)
}

func sample() *Request {
	return &Request{Method: "POST", Query: "a=1", Headers: http.Header{"Content-Type": {"application/json"}, "X-Old": {"1"}},
		Body: []byte(`{"amount":150,"customer":{"id":"cus_1"}}`)}
}

func TestRunRewrites(t *testing.T) {
	t.Parallel()
	out, logs, err := run(t, Config{}, `(request) => {
		console.log("amount", request.body.amount, request.method);
		request.body = {total: request.body.amount * 2, who: request.body.customer.id};
		request.headers["x-new"] = "yes";
		delete request.headers["x-old"];
		request.path = "orders/" + request.body.who;
		request.query = {b: 2};
		return request;
	}`, sample())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if string(out.Body) != `{"total":300,"who":"cus_1"}` {
		t.Errorf("body = %s", out.Body)
	}
	if out.Headers.Get("X-New") != "yes" || out.Headers.Get("X-Old") != "" || out.Headers.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", out.Headers)
	}
	if out.Path != "/orders/cus_1" || out.Query != "b=2" || out.Method != "POST" {
		t.Errorf("path %q query %q method %q", out.Path, out.Query, out.Method)
	}
	if logs != "amount 150 POST\n" {
		t.Errorf("logs = %q", logs)
	}
}

func TestRunIdentityAndText(t *testing.T) {
	t.Parallel()
	out, _, err := run(t, Config{}, `(r) => r`, &Request{Body: []byte("plain text"), Headers: http.Header{}})
	if err != nil || string(out.Body) != "plain text" {
		t.Fatalf("Run = %v, %v", out, err)
	}
	out, _, err = run(t, Config{}, `function (r) { r.body = r.body.toUpperCase(); return r } // comment`, &Request{Body: []byte("plain"), Headers: http.Header{}})
	if err != nil || string(out.Body) != "PLAIN" {
		t.Fatalf("Run = %v, %v", out, err)
	}
}

func TestRunDrop(t *testing.T) {
	t.Parallel()
	for _, code := range []string{`(r) => null`, `(r) => { console.warn("skip") }`} {
		out, logs, err := run(t, Config{}, code, sample())
		if err != nil || out != nil {
			t.Errorf("%s: Run = %v, %v; want a drop", code, out, err)
		}
		if strings.Contains(code, "warn") && logs != "[warn] skip\n" {
			t.Errorf("logs = %q", logs)
		}
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ code, want string }{
		{`(r) => { throw new Error("bad order") }`, "bad order"},
		{`(r) => r.body.missing.field`, "TypeError"},
		{`(r) => 42`, "return the request object"},
		{`(r) => [r]`, "return the request object"},
		{`(r) => ({headers: "x"})`, "headers that are not an object"},
		{`(r) => ({path: 5})`, "path that is not a string"},
		{`(r) => { setTimeout(() => 1, 10); return r }`, "setTimeout is not defined"},
		{`(r) => { require("fs"); return r }`, "require is not defined"},
		{`(r) => { fetch("http://127.0.0.1/"); return r }`, "fetch is not defined"},
		{`function f(r) { return f(r) }`, "nested more than 1024 deep"},
	}
	for _, c := range cases {
		_, _, err := run(t, Config{}, c.code, sample())
		var te *Error
		if !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want …%s…", c.code, err, c.want)
		}
	}
}

func TestRunTimeLimit(t *testing.T) {
	t.Parallel()
	_, logs, err := run(t, Config{Timeout: 50 * time.Millisecond}, `(r) => { console.log("start"); for (;;) {} }`, sample())
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "time limit of 50ms") {
		t.Fatalf("err = %v", err)
	}
	if logs != "start\n" {
		t.Errorf("logs = %q", logs)
	}
}

func TestRunDefaultTimeLimit(t *testing.T) {
	t.Parallel()
	if got := NewRunner(Config{}).Timeout(); got != time.Second {
		t.Errorf("default timeout = %v", got)
	}
}

func TestRunMemoryLimit(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, Config{MemoryLimit: 32 << 20, Timeout: time.Minute},
		`(r) => { let a = []; for (;;) { a.push("x".repeat(1024) + a.length) } }`, sample())
	if !errors.Is(err, ErrMemory) {
		t.Fatalf("err = %v", err)
	}
}

func TestRunOutputLimit(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, Config{MaxOutputBytes: 1000}, `(r) => { r.body = "x".repeat(2000); return r }`, sample())
	if !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), "more than the limit of 1000") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunLogLimit(t *testing.T) {
	t.Parallel()
	_, logs, err := run(t, Config{MaxLogBytes: 100}, `(r) => { for (let i = 0; i < 100; i++) console.log("line", i, {i}); return r }`, sample())
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) > 100+len("…(truncated)\n") || !strings.HasSuffix(logs, "…(truncated)\n") || !strings.HasPrefix(logs, `line 0 {"i":0}`) {
		t.Errorf("logs = %q", logs)
	}
}

func TestRunsShareNothing(t *testing.T) {
	t.Parallel()
	p, err := Compile(`(r) => { globalThis.n = (globalThis.n || 0) + 1; r.body = String(globalThis.n); return r }`)
	if err != nil {
		t.Fatal(err)
	}
	rn := NewRunner(Config{})
	for range 2 {
		out, _, err := rn.Run(context.Background(), p, sample())
		if err != nil || string(out.Body) != "1" {
			t.Fatalf("Run = %s, %v", out.Body, err)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{
		"":                         "is empty",
		"(r) => {":                 "does not compile",
		"42":                       "must be a function",
		"({a: 1})":                 "must be a function",
		strings.Repeat(" ", 70000): "longer than",
	} {
		_, err := Compile(code)
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%.20q) = %v, want …%s…", code, err, want)
		}
	}
}

func BenchmarkRun(b *testing.B) {
	p, _ := Compile(`(r) => { r.headers["x-seen"] = "1"; r.body.total = r.body.amount * 2; return r }`)
	rn := NewRunner(Config{})
	req := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := rn.Run(context.Background(), p, req); err != nil {
			b.Fatal(err)
		}
	}
}
