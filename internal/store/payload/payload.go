// Package payload is what both storage drivers do with an event's
// immutable payload (query, headers, body) beyond storing it: compress it
// when that pays, find the provider's delivery id in it, and turn a search
// text into index terms and an exact check.
//
// Compression (by the SQLite driver; PostgreSQL's own lz4 applies only to
// rows over about 2 KB) is zstd, per column, when it saves 10% or more; a source
// with enough traffic gets a dictionary trained on its own payloads
// (dict.go), which roughly halves what a small JSON body keeps. Each frame
// names its dictionary in its header, so a stored row needs only its
// encoding flags to be read, whichever dictionary (or none) wrote it,
// provided the dictionary is registered with the process (RegisterDict):
// stores register theirs when they open and when they add one.
//
// The payload lives apart from the event row (table event_payloads in both
// drivers) because the row's status is rewritten as deliveries finish: a
// narrow row makes each rewrite copy tens of bytes, not kilobytes.
package payload

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Encoding flags, stored per payload row: which of its columns are zstd
// frames. Rows written before compression (and bodies that did not shrink)
// have 0 and are read as they are.
const (
	BodyZstd    = 1 << 0
	HeadersZstd = 1 << 1
)

// MinCompress is the smallest column compressed: below it a zstd frame's
// header and the CPU are not worth the few bytes saved.
const MinCompress = 128

// codecs holds one zstd encoder and decoder for the process. Both are safe
// for concurrent EncodeAll/DecodeAll and keep their state pools inside, so
// every store shares them instead of growing a pool each; they never change
// once built.
var codecs = sync.OnceValue(func() codec {
	// SpeedDefault (zstd level 3) compresses a 1 KiB JSON body in a few
	// microseconds; SpeedFastest saved about 8% less on the benchmark
	// dataset for little gain in time. Without a dictionary each row stands
	// alone: no shared state to version or lose.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(2),
		zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<20))
	if err != nil {
		panic(fmt.Sprintf("zstd encoder: %v", err)) // only for invalid options
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		panic(fmt.Sprintf("zstd decoder: %v", err))
	}
	return codec{enc: enc, dec: dec}
})

type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// compress returns b as a zstd frame and true when that saves at least 10%
// of it, else b and false.
func compress(b []byte) ([]byte, bool) {
	return compressWith(codecs().enc, b, MinCompress)
}

// compressWith is compress with an encoder and a smallest size of its own.
func compressWith(enc *zstd.Encoder, b []byte, minLen int) ([]byte, bool) {
	if len(b) < minLen {
		return b, false
	}
	z := enc.EncodeAll(b, make([]byte, 0, len(b)))
	if len(z) > len(b)-len(b)/10 {
		return b, false
	}
	return z, true
}

// Encode returns the stored form of an event's headers (their JSON) and
// body, and the encoding flags that say how to read them back.
func Encode(headers string, body []byte) (storedHeaders, storedBody []byte, flags int) {
	h, hz := compress([]byte(headers))
	b, bz := compress(body)
	if hz {
		flags |= HeadersZstd
	}
	if bz {
		flags |= BodyZstd
	}
	return h, b, flags
}

// Decode reverses Encode and EncodeDict. A frame compressed with a
// dictionary needs it registered (RegisterDict), else the error is an
// *UnknownDictError.
func Decode(flags int, storedHeaders, storedBody []byte) (headers string, body []byte, err error) {
	h, err := decode(flags&HeadersZstd != 0, storedHeaders)
	if err != nil {
		return "", nil, fmt.Errorf("decode headers: %w", err)
	}
	if body, err = decode(flags&BodyZstd != 0, storedBody); err != nil {
		return "", nil, fmt.Errorf("decode body: %w", err)
	}
	return string(h), body, nil
}

// DecodeBody returns the plain body of a stored one (see Decode).
func DecodeBody(flags int, stored []byte) ([]byte, error) {
	return decode(flags&BodyZstd != 0, stored)
}

// decode returns the plain form of a stored column: b itself when it is not
// a zstd frame (z false), else the frame decompressed with the dictionary
// its header names, if any (an *UnknownDictError when that one is not
// registered).
func decode(z bool, b []byte) ([]byte, error) {
	if !z {
		return b, nil
	}
	id, err := frameDict(b)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return codecs().dec.DecodeAll(b, nil)
	}
	c, ok := lookupDict(id)
	if !ok {
		return nil, &UnknownDictError{ID: id}
	}
	dec, err := c.decoder()
	if err != nil {
		return nil, fmt.Errorf("zstd dictionary %d: %w", id, err)
	}
	return dec.DecodeAll(b, nil)
}
