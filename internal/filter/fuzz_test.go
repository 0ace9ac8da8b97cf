package filter

import "testing"

// FuzzParseMatch: any document either parses or is refused with an
// *Error, and a parsed filter matches any JSON body without panicking, the
// same way through Match and Explain.
func FuzzParseMatch(f *testing.F) {
	f.Add([]byte(`{"body":{"a":{"$gt":1},"$or":[{"b":"x"},{"c":{"$exist":false}}]}}`), []byte(`{"a":2,"b":"x"}`))
	f.Add([]byte(`{"headers":{"X":{"$in":["a","b"]}},"query":{"p":{"$not":{"$startsWith":"q"}}}}`), []byte(`[1,2,{"a":null}]`))
	f.Add([]byte(`{"body":[{"$eq":[1]},{"k":{"$nin":"zz"}}],"path":{"$endsWith":"/x"}}`), []byte(`"text"`))
	f.Fuzz(func(t *testing.T, doc, body []byte) {
		flt, err := Parse(doc)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error %T %v is not an *Error", err, err)
			}
			return
		}
		req := NewRequest(body, nil, "p=1&p=2", "/x", true)
		ok := flt.Match(req)
		ok2, why := flt.Explain(req)
		if ok != ok2 || (!ok && why == nil) {
			t.Fatalf("Match %v, Explain %v %+v", ok, ok2, why)
		}
	})
}
