package filter

import (
	"encoding/json"
	"strings"
	"testing"
)

func body(t *testing.T, s string) *Request {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("body %s: %v", s, err)
	}
	return &Request{Body: v}
}

func TestMatchBody(t *testing.T) {
	t.Parallel()
	const ev = `{"type":"order.created","amount":150,"currency":"EUR","paid":true,"note":null,
		"customer":{"id":"cus_1","email":"a@example.com","tier":"gold"},
		"tags":["vip","eu"],"items":[{"sku":"A","qty":1},{"sku":"B","qty":5}],"created":"2026-12-03T10:00:00Z"}`
	cases := []struct {
		name, filter string
		want         bool
	}{
		{"string equal", `{"type":"order.created"}`, true},
		{"string differs", `{"type":"order.paid"}`, false},
		{"number equal", `{"amount":150}`, true},
		{"number differs", `{"amount":151}`, false},
		{"boolean", `{"paid":true}`, true},
		{"boolean differs", `{"paid":false}`, false},
		{"null", `{"note":null}`, true},
		{"null against value", `{"type":null}`, false},
		{"nested subset", `{"customer":{"tier":"gold"}}`, true},
		{"nested mismatch", `{"customer":{"tier":"silver"}}`, false},
		{"several fields", `{"type":"order.created","customer":{"id":"cus_1"}}`, true},
		{"one field of several fails", `{"type":"order.created","customer":{"id":"cus_2"}}`, false},
		{"missing field", `{"refund":true}`, false},
		{"missing nested", `{"customer":{"phone":"1"}}`, false},
		{"type mismatch string vs number", `{"amount":"abc"}`, false},
		{"object pattern on scalar", `{"type":{"x":1}}`, false},
		{"array any element", `{"tags":"vip"}`, true},
		{"array no element", `{"tags":"us"}`, false},
		{"array pattern contains all", `{"tags":["eu","vip"]}`, true},
		{"array pattern missing one", `{"tags":["eu","us"]}`, false},
		{"array pattern on scalar", `{"type":["order.created"]}`, false},
		{"array of objects", `{"items":{"sku":"B"}}`, true},
		{"array of objects none", `{"items":{"sku":"C"}}`, false},
		{"array of objects two fields same element", `{"items":{"sku":"B","qty":5}}`, true},
		{"array of objects two fields different elements", `{"items":{"sku":"A","qty":5}}`, false},
		{"$eq", `{"currency":{"$eq":"EUR"}}`, true},
		{"$eq differs", `{"currency":{"$eq":"USD"}}`, false},
		{"$eq whole array", `{"tags":{"$eq":["vip","eu"]}}`, true},
		{"$eq whole array order", `{"tags":{"$eq":["eu","vip"]}}`, false},
		{"$eq whole object", `{"customer":{"$eq":{"id":"cus_1","email":"a@example.com","tier":"gold"}}}`, true},
		{"$neq", `{"currency":{"$neq":"USD"}}`, true},
		{"$neq equal", `{"currency":{"$neq":"EUR"}}`, false},
		{"$neq missing", `{"refund":{"$neq":true}}`, true},
		{"$neq array holds it", `{"tags":{"$neq":"vip"}}`, false},
		{"$neq array lacks it", `{"tags":{"$neq":"us"}}`, true},
		{"$gt", `{"amount":{"$gt":100}}`, true},
		{"$gt equal", `{"amount":{"$gt":150}}`, false},
		{"$gte equal", `{"amount":{"$gte":150}}`, true},
		{"$lt", `{"amount":{"$lt":100}}`, false},
		{"$lte equal", `{"amount":{"$lte":150}}`, true},
		{"$gt and $lt range", `{"amount":{"$gt":100,"$lt":200}}`, true},
		{"range fails upper", `{"amount":{"$gt":100,"$lt":120}}`, false},
		{"$gt string value against number", `{"currency":{"$gt":1}}`, false},
		{"$gt missing", `{"refund":{"$gt":1}}`, false},
		{"$gt on strings", `{"created":{"$gt":"2026-12-01"}}`, true},
		{"$lt on strings", `{"created":{"$lt":"2026-12-01"}}`, false},
		{"$gt on array any element", `{"items":{"qty":{"$gt":3}}}`, true},
		{"$in array", `{"currency":{"$in":["EUR","USD"]}}`, true},
		{"$in array none", `{"currency":{"$in":["GBP","USD"]}}`, false},
		{"$in numbers", `{"amount":{"$in":[100,150]}}`, true},
		{"$in string contains", `{"customer":{"email":{"$in":"example.com"}}}`, true},
		{"$in string not contained", `{"customer":{"email":{"$in":"example.org"}}}`, false},
		{"$in on array value", `{"tags":{"$in":["us","eu"]}}`, true},
		{"$nin", `{"currency":{"$nin":["GBP","USD"]}}`, true},
		{"$nin holds it", `{"currency":{"$nin":["EUR"]}}`, false},
		{"$nin array value holds one", `{"tags":{"$nin":["eu"]}}`, false},
		{"$nin missing", `{"refund":{"$nin":[true]}}`, true},
		{"$startsWith", `{"type":{"$startsWith":"order."}}`, true},
		{"$startsWith no", `{"type":{"$startsWith":"invoice."}}`, false},
		{"$startsWith on number", `{"amount":{"$startsWith":"1"}}`, false},
		{"$endsWith", `{"type":{"$endsWith":".created"}}`, true},
		{"$endsWith no", `{"type":{"$endsWith":".paid"}}`, false},
		{"$exist true", `{"customer":{"email":{"$exist":true}}}`, true},
		{"$exist true missing", `{"customer":{"phone":{"$exist":true}}}`, false},
		{"$exist false missing", `{"customer":{"phone":{"$exist":false}}}`, true},
		{"$exist false present", `{"customer":{"email":{"$exist":false}}}`, false},
		{"$exist true on null", `{"note":{"$exist":true}}`, true},
		{"$or first", `{"$or":[{"type":"order.created"},{"type":"order.paid"}]}`, true},
		{"$or second", `{"$or":[{"type":"order.paid"},{"amount":{"$gt":100}}]}`, true},
		{"$or none", `{"$or":[{"type":"order.paid"},{"amount":{"$lt":100}}]}`, false},
		{"$or inside a field", `{"currency":{"$or":["USD",{"$startsWith":"E"}]}}`, true},
		{"$or beside fields", `{"paid":true,"$or":[{"currency":"USD"},{"currency":"EUR"}]}`, true},
		{"$or beside failing field", `{"paid":false,"$or":[{"currency":"USD"},{"currency":"EUR"}]}`, false},
		{"$and", `{"$and":[{"type":{"$startsWith":"order"}},{"amount":{"$gte":150}}]}`, true},
		{"$and one fails", `{"$and":[{"type":{"$startsWith":"order"}},{"amount":{"$gt":150}}]}`, false},
		{"$not", `{"$not":{"currency":"USD"}}`, true},
		{"$not matching", `{"$not":{"currency":"EUR"}}`, false},
		{"$not in a field", `{"customer":{"tier":{"$not":{"$in":["bronze","silver"]}}}}`, true},
		{"$not of missing field", `{"refund":{"$not":{"$eq":true}}}`, true},
		{"nested logic", `{"$or":[{"$and":[{"paid":true},{"amount":{"$gt":1000}}]},{"customer":{"tier":"gold"}}]}`, true},
		{"deep nested mismatch", `{"$and":[{"$or":[{"tags":"us"},{"tags":"ca"}]},{"paid":true}]}`, false},
		{"empty object matches object", `{"customer":{}}`, true},
	}
	req := body(t, ev)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(`{"body":` + c.filter + `}`))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := f.Match(req); got != c.want {
				t.Errorf("Match = %v, want %v", got, c.want)
			}
			ok, why := f.Explain(req)
			if ok != c.want {
				t.Errorf("Explain = %v, want %v", ok, c.want)
			}
			if !ok && (why == nil || why.Path == "" || why.Expected == "" || why.Actual == "") {
				t.Errorf("Explain gave no reason: %+v", why)
			}
		})
	}
}

func TestMatchSections(t *testing.T) {
	t.Parallel()
	req := &Request{
		Body:    "plain text, not JSON",
		Headers: map[string]any{"x-github-event": "push", "content-type": "application/json"},
		Query:   map[string]any{"page": "2", "tag": []any{"a", "b"}},
		Path:    "/orders/42",
	}
	cases := []struct {
		name, filter string
		want         bool
	}{
		{"header name any case", `{"headers":{"X-GitHub-Event":"push"}}`, true},
		{"header differs", `{"headers":{"x-github-event":"pull_request"}}`, false},
		{"header missing", `{"headers":{"x-other":"1"}}`, false},
		{"header $exist false", `{"headers":{"x-other":{"$exist":false}}}`, true},
		{"header inside $or", `{"headers":{"$or":[{"X-GitHub-Event":"ping"},{"X-GitHub-Event":"push"}]}}`, true},
		{"query number matches its string", `{"query":{"page":2}}`, true},
		{"query $gt on string number", `{"query":{"page":{"$gt":1}}}`, true},
		{"query repeated any", `{"query":{"tag":"b"}}`, true},
		{"query string", `{"query":{"page":"3"}}`, false},
		{"path", `{"path":"/orders/42"}`, true},
		{"path $startsWith", `{"path":{"$startsWith":"/orders/"}}`, true},
		{"path differs", `{"path":"/orders"}`, false},
		{"non-JSON body as string", `{"body":{"$startsWith":"plain"}}`, true},
		{"non-JSON body field", `{"body":{"type":"x"}}`, false},
		{"every section", `{"headers":{"x-github-event":"push"},"query":{"page":"2"},"path":"/orders/42","body":{"$endsWith":"JSON"}}`, true},
		{"one section fails", `{"headers":{"x-github-event":"push"},"path":"/other"}`, false},
		{"null section ignored", `{"body":null,"path":"/orders/42"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(c.filter))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := f.Match(req); got != c.want {
				t.Errorf("Match = %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ filter, path, msg string }{
		{`[1]`, "filter", "must be an object"},
		{`{"bdy":{}}`, "filter.bdy", "unknown section"},
		{`{"headers":"x"}`, "filter.headers", "object of names"},
		{`{"query":[1]}`, "filter.query", "object of names"},
		{`{"body":{"amount":{"$gt":true}}}`, "filter.body.amount.$gt", "expects a number or a string"},
		{`{"body":{"amount":{"$lte":[1]}}}`, "filter.body.amount.$lte", "expects a number or a string"},
		{`{"body":{"type":{"$startsWith":1}}}`, "filter.body.type.$startsWith", "expects a string"},
		{`{"body":{"type":{"$endsWith":null}}}`, "filter.body.type.$endsWith", "expects a string"},
		{`{"body":{"type":{"$in":5}}}`, "filter.body.type.$in", "expects an array"},
		{`{"body":{"type":{"$nin":[{"a":1}]}}}`, "filter.body.type.$nin[0]", "expects a string, number"},
		{`{"body":{"type":{"$exist":"yes"}}}`, "filter.body.type.$exist", "expects true or false"},
		{`{"body":{"$or":{}}}`, "filter.body.$or", "non-empty array"},
		{`{"body":{"$and":[]}}`, "filter.body.$and", "non-empty array"},
		{`{"body":{"$or":[{"a":{"$gt":{}}}]}}`, "filter.body.$or[0].a.$gt", "expects a number"},
		{`{"body":{"$not":{"a":{"$regex":"x"}}}}`, "filter.body.$not.a.$regex", "unknown operator"},
		{`{"body":{"a":{"$gt":1,"b":2}}}`, "filter.body.a", "mixes operators"},
		{`{"body":{"items":[{"$bogus":1}]}}`, "filter.body.items[0].$bogus", "unknown operator"},
		{`{"body":`, "filter", "not valid JSON"},
		{`{"body":"` + strings.Repeat("x", MaxBytes) + `"}`, "filter", "more than the limit"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			_, err := Parse([]byte(c.filter))
			var fe *Error
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if !asError(err, &fe) || fe.Path != c.path || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("Parse error = %v, want %s: …%s…", err, c.path, c.msg)
			}
		})
	}
}

func asError(err error, fe **Error) bool {
	e, ok := err.(*Error)
	*fe = e
	return ok
}

func TestParseEmpty(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{``, `null`, `{}`, `{"body":null}`} {
		f, err := Parse([]byte(doc))
		if err != nil || f != nil {
			t.Errorf("Parse(%q) = %v, %v; want no filter", doc, f, err)
		}
		if !f.Match(&Request{}) {
			t.Errorf("nil filter must match everything")
		}
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte(`{"body":{"type":"order.created","amount":{"$gt":100}}}`))
	if err != nil {
		t.Fatal(err)
	}
	ok, why := f.Explain(body(t, `{"type":"order.created","amount":50}`))
	if ok || *why != (Explanation{Path: "body.amount.$gt", Expected: "> 100", Actual: "50"}) {
		t.Errorf("Explain = %v, %+v", ok, why)
	}
	ok, why = f.Explain(body(t, `{"amount":500}`))
	if ok || *why != (Explanation{Path: "body.type", Expected: `equal to "order.created"`, Actual: "missing"}) {
		t.Errorf("Explain = %v, %+v", ok, why)
	}
	if !f.UsesBody() || strings.Join(f.Sections(), ",") != "body" {
		t.Errorf("UsesBody/Sections wrong: %v", f.Sections())
	}
}

func TestMatchAllocs(t *testing.T) {
	f, err := Parse([]byte(`{"body":{"type":{"$startsWith":"order."},"amount":{"$gte":100},
		"tags":"vip","$or":[{"currency":"USD"},{"currency":"EUR"}]},"headers":{"x-kind":"a"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req := body(t, `{"type":"order.created","amount":150,"currency":"EUR","tags":["eu","vip"]}`)
	req.Headers = map[string]any{"x-kind": "a"}
	if !f.Match(req) {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(100, func() { f.Match(req) }); n != 0 {
		t.Errorf("Match allocates %v times per run", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	f, _ := Parse([]byte(`{"body":{"type":{"$startsWith":"order."},"amount":{"$gte":100},"customer":{"tier":{"$in":["gold","platinum"]}}}}`))
	var v any
	_ = json.Unmarshal([]byte(`{"type":"order.created","amount":150,"customer":{"id":"c","tier":"gold"}}`), &v)
	req := &Request{Body: v}
	b.ReportAllocs()
	for b.Loop() {
		f.Match(req)
	}
}
