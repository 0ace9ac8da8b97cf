package bench

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"

	storepayload "github.com/volleyhq/volley/internal/store/payload"
)

// BenchmarkBodyBytes measures what the bodies `volley bench --scale` sends
// (realisticBody, 1 KiB) take compressed, one at a time as the stores keep
// them and in blocks of several, with a dictionary trained as a node's
// trainer trains one: the data of issue 8's size target, which asks how
// far the payload alone can shrink. bytes/body is the compressed size per
// body (frames' headers included); ns/op compresses every measured body
// once.
//
//	go test -run '^$' -bench BodyBytes -benchtime 20x ./internal/bench
func BenchmarkBodyBytes(b *testing.B) {
	const train, measure = 2000, 1024
	bodies := make([][]byte, train+measure)
	plain := 0
	for i := range bodies {
		bodies[i] = realisticBody(i, 1024)
		if i >= train {
			plain += len(bodies[i])
		}
	}
	dict, err := storepayload.TrainDict(bodies[:train], 0x7e57)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d bodies of %.0f bytes on average; dictionary of %d bytes trained on %d others",
		measure, float64(plain)/measure, len(dict), train)
	levels := []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression}
	for _, withDict := range []bool{false, true} {
		for _, level := range levels {
			for _, block := range []int{1, 8, 64} {
				opts := []zstd.EOption{zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(false),
					zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1 << 20)}
				if withDict {
					opts = append(opts, zstd.WithEncoderDict(dict))
				}
				enc, err := zstd.NewWriter(nil, opts...)
				if err != nil {
					b.Fatal(err)
				}
				name := fmt.Sprintf("dict=%v/level=%s/block=%d", withDict, level, block)
				b.Run(name, func(b *testing.B) {
					stored := 0
					for b.Loop() {
						stored = compressBlocks(enc, bodies[train:], block)
					}
					b.ReportMetric(float64(stored)/measure, "bytes/body")
				})
				enc.Close()
			}
		}
	}
}

// compressBlocks compresses bodies block at a time, each block one frame
// of its bodies end to end, and returns the bytes stored in all.
func compressBlocks(enc *zstd.Encoder, bodies [][]byte, block int) int {
	stored := 0
	var buf, out []byte
	for i := 0; i < len(bodies); i += block {
		buf = buf[:0]
		for _, body := range bodies[i:min(i+block, len(bodies))] {
			buf = append(buf, body...)
		}
		out = enc.EncodeAll(buf, out[:0])
		stored += len(out)
	}
	return stored
}
