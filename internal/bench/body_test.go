package bench

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestRealisticBody(t *testing.T) {
	t.Parallel()
	for _, size := range []int{100, 1024, 4096} {
		for _, i := range []int{0, 1, 500, 123456} {
			b := realisticBody(i, size)
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("body %d of %d bytes is not JSON: %v\n%s", i, size, err, b)
			}
			if len(b) < size || len(b) > max(size, 900)+16 {
				t.Errorf("body %d asked %d bytes, got %d", i, size, len(b))
			}
			if !bytes.Contains(b, []byte(`"customer":"`+datasetCustomer(i)+`"`)) {
				t.Errorf("body %d does not name %s", i, datasetCustomer(i))
			}
			if !bytes.Equal(b, realisticBody(i, size)) {
				t.Errorf("body %d differs between calls", i)
			}
		}
	}
	if bytes.Equal(realisticBody(1, 1024), realisticBody(2, 1024)) {
		t.Error("two events have the same body")
	}
}
