package storesqlite_test

import (
	"testing"

	"github.com/volleyhq/volley/internal/store/storetest"
)

func BenchmarkEventInsert(b *testing.B) { storetest.BenchEventInsert(b, setup(b)) }

func BenchmarkLeaseAndFinish(b *testing.B)  { storetest.BenchLeaseAndFinish(b, setup(b)) }
func BenchmarkConnectionPause(b *testing.B) { storetest.BenchConnectionPause(b, setup(b)) }
func BenchmarkRetention(b *testing.B)       { storetest.BenchRetention(b, setup(b)) }
