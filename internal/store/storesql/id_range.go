package storesql

import (
	"math/big"
	"strings"
	"time"
)

// idDigits is the number of base62 digits of a Volley event id after
// "evt_" (see volley.NewEventID).
const idDigits = 22

// idRandomBits is the number of random bits below the id's milliseconds.
const idRandomBits = 80

// IDTimeRange returns the creation times [lo, hi) of the Volley event ids
// that start with prefix ("evt_" and 1 to 21 base62 digits), and false
// when the prefix cannot start one. An id is "evt_" and 22 base62 digits
// of a 128-bit number whose top 48 bits are its creation time in Unix
// milliseconds (the time stored as the event's created_at), so a prefix
// bounds the number, and the number the time. Digits 1 to 3 bound
// nothing useful (62^19 ms is centuries); 4 bound 41 hours, 5 40 minutes,
// 6 40 seconds.
func IDTimeRange(prefix string) (lo, hi time.Time, ok bool) {
	digits := strings.TrimPrefix(prefix, "evt_")
	if len(digits) == 0 || len(digits) >= idDigits || len(digits) == len(prefix) {
		return time.Time{}, time.Time{}, false
	}
	n := new(big.Int)
	b62 := big.NewInt(62)
	for i := 0; i < len(digits); i++ {
		v := base62Value(digits[i])
		if v < 0 {
			return time.Time{}, time.Time{}, false
		}
		n.Mul(n, b62).Add(n, big.NewInt(int64(v)))
	}
	scale := new(big.Int).Exp(b62, big.NewInt(int64(idDigits-len(digits))), nil)
	first := new(big.Int).Mul(n, scale)                                     // the smallest id with the prefix
	last := new(big.Int).Sub(new(big.Int).Add(first, scale), big.NewInt(1)) // the largest
	loMS := first.Rsh(first, idRandomBits)                                  // its milliseconds
	hiMS := last.Rsh(last, idRandomBits).Add(last, big.NewInt(1))           // past the largest's
	maxMS := new(big.Int).Lsh(big.NewInt(1), 48)                            // ids hold 48 bits of time
	if loMS.Cmp(maxMS) >= 0 {
		loMS.Set(maxMS) // no id starts so high: an empty range
	}
	if hiMS.Cmp(maxMS) > 0 {
		hiMS = maxMS
	}
	return time.UnixMilli(loMS.Int64()).UTC(), time.UnixMilli(hiMS.Int64()).UTC(), true
}

// base62Value is the value of a base62 digit, or -1.
func base62Value(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}
