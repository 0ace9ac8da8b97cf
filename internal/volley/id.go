package volley

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// base62 is in ASCII order, so fixed-width encodings sort like the numbers
// they encode.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// encode128 writes the 128-bit big-endian number in b as exactly 22 base62
// digits (62^22 > 2^128).
func encode128(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [22]byte
	for i := len(out) - 1; i >= 0; i-- {
		var r uint64
		hi, r = bits.Div64(0, hi, 62)
		lo, r = bits.Div64(r, lo, 62)
		out[i] = base62[r]
	}
	return string(out[:])
}

// RandomToken returns n base62 characters drawn uniformly from r.
func RandomToken(r io.Reader, n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, n+n/4+8)
	i := 0
	for i < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62: reject to keep the draw uniform
				continue
			}
			out[i] = base62[c%62]
			if i++; i == n {
				break
			}
		}
	}
	return string(out), nil
}

// NewIngestionID returns a source's permanent, unguessable ingestion id:
// "src_" and 22 base62 characters (128 random bits).
func NewIngestionID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("new ingestion id: %w", err)
	}
	return "src_" + encode128(b), nil
}

// NewEventID returns an event's public id: "evt_" and 22 base62 characters
// encoding 48 bits of milliseconds since the Unix epoch followed by 80 random
// bits, so ids sort by creation time.
func NewEventID(r io.Reader, now time.Time) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[6:]); err != nil {
		return "", fmt.Errorf("new event id: %w", err)
	}
	ms := uint64(now.UnixMilli())
	b[0], b[1], b[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	b[3], b[4], b[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	return "evt_" + encode128(b), nil
}
