package payload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"
)

// Trained dictionaries.
//
// A source's payloads look alike (the same JSON keys, the same headers), and
// a 1 KiB body alone gives zstd too little to find that out: compressed
// without a dictionary, a realistic 1 KiB JSON body keeps about 650 bytes;
// with a dictionary trained on 2,000 of its source's bodies, about 370.
//
// A dictionary is identified by its zstd dictionary id, which every frame
// compressed with it carries in its header: the stored row needs no column
// to say which dictionary reads it (the encoding flags still say which
// columns are zstd frames), and rows written before dictionaries existed,
// whose frames name no dictionary, read as they always did. Ids are random
// in [32768, 2^31) (zstd reserves the lower ones), unique in a store (its
// table's primary key).
//
// Dictionaries are registered with the process (RegisterDict), not with a
// store: SQLite's SQL functions that decode bodies (the search) are
// registered once per process, with no store at hand. A dictionary never
// changes once written, and an id names the same bytes wherever it is
// registered (RegisterDict refuses an id already registered with other
// bytes), so the registry is a cache that only grows, like the codecs.

// DictSize is the largest dictionary TrainDict builds: on 1 KiB JSON
// bodies, 32 KiB and 64 KiB dictionaries kept the same 366 bytes a body
// (and zstd's "better" level 361 or 368), and every node holds each
// dictionary of its store in memory.
const DictSize = 32 << 10

// MinDictSamples is the fewest sample payloads TrainDict accepts: with fewer
// the dictionary learns one sender's quirks rather than the source's shape.
const MinDictSamples = 100

// UnknownDictError is returned when a stored frame names a dictionary this
// process has not registered: its store must load it (RegisterDict) first.
type UnknownDictError struct {
	ID uint32
}

// Error implements error.
func (e *UnknownDictError) Error() string {
	return fmt.Sprintf("zstd dictionary %d is not loaded", e.ID)
}

// dictCodec compresses and decompresses with one dictionary; its encoder
// and decoder are built when first needed (a node that only reads old rows
// never builds the encoder).
type dictCodec struct {
	raw     []byte
	encOnce sync.Once
	enc     *zstd.Encoder
	decOnce sync.Once
	dec     *zstd.Decoder
	err     error // building the encoder or decoder
}

func (c *dictCodec) encoder() (*zstd.Encoder, error) {
	c.encOnce.Do(func() {
		// The same settings as the codec without a dictionary (see codecs).
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(2),
			zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<20),
			zstd.WithEncoderDict(c.raw))
		c.enc, c.err = enc, err
	})
	return c.enc, c.err
}

func (c *dictCodec) decoder() (*zstd.Decoder, error) {
	c.decOnce.Do(func() {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderDicts(c.raw))
		if err != nil {
			c.err = err
			return
		}
		c.dec = dec
	})
	if c.dec == nil {
		return nil, c.err
	}
	return c.dec, nil
}

// dicts is the process's registry of dictionaries by id.
var dicts = struct {
	mu sync.RWMutex
	m  map[uint32]*dictCodec
}{m: map[uint32]*dictCodec{}}

// dictMagic starts every zstd dictionary (RFC 8878, section 5).
var dictMagic = []byte{0x37, 0xa4, 0x30, 0xec}

// DictID returns the id a zstd dictionary declares, or an error when raw is
// not one.
func DictID(raw []byte) (uint32, error) {
	if len(raw) < 8 || !bytes.Equal(raw[:4], dictMagic) {
		return 0, errors.New("not a zstd dictionary")
	}
	id := binary.LittleEndian.Uint32(raw[4:8])
	if id == 0 {
		return 0, errors.New("zstd dictionary without an id")
	}
	return id, nil
}

// RegisterDict makes a dictionary usable by EncodeDict and by every
// decoding function of the package, and returns its id. Registering the
// same dictionary again is a no-op; another dictionary under a registered
// id is an error.
func RegisterDict(raw []byte) (uint32, error) {
	id, err := DictID(raw)
	if err != nil {
		return 0, err
	}
	if _, err := zstd.InspectDictionary(raw); err != nil {
		return 0, fmt.Errorf("zstd dictionary %d: %w", id, err)
	}
	dicts.mu.Lock()
	defer dicts.mu.Unlock()
	if c, ok := dicts.m[id]; ok {
		if !bytes.Equal(c.raw, raw) {
			return 0, fmt.Errorf("zstd dictionary %d: another dictionary has this id", id)
		}
		return id, nil
	}
	dicts.m[id] = &dictCodec{raw: bytes.Clone(raw)}
	return id, nil
}

// DictRegistered reports whether the dictionary id is registered.
func DictRegistered(id uint32) bool {
	_, ok := lookupDict(id)
	return ok
}

func lookupDict(id uint32) (*dictCodec, bool) {
	dicts.mu.RLock()
	c, ok := dicts.m[id]
	dicts.mu.RUnlock()
	return c, ok
}

// TrainDict builds a dictionary of at most DictSize bytes with the given id
// (0 picks a random one) from sample payloads: a source's recent bodies,
// and the JSON of their headers. It needs MinDictSamples samples or more.
func TrainDict(samples [][]byte, id uint32) ([]byte, error) {
	if len(samples) < MinDictSamples {
		return nil, fmt.Errorf("train dictionary: %d samples, need %d", len(samples), MinDictSamples)
	}
	// dict.BuildZstdDict samples with a random generator of its own: its
	// result is not the same twice, which nothing here needs.
	raw, err := dict.BuildZstdDict(samples, dict.Options{MaxDictSize: DictSize, HashBytes: 6, ZstdDictID: id,
		ZstdLevel: zstd.SpeedDefault})
	if err != nil {
		return nil, fmt.Errorf("train dictionary: %w", err)
	}
	return raw, nil
}

// EncodeDict is Encode with the registered dictionary id (0: none, which is
// Encode). Each column is compressed when that saves 10% of it, as Encode
// does; headers are worth it more often, since a dictionary holds the
// header names a source always sends.
func EncodeDict(id uint32, headers string, body []byte) (storedHeaders, storedBody []byte, flags int, err error) {
	if id == 0 {
		h, b, f := Encode(headers, body)
		return h, b, f, nil
	}
	c, ok := lookupDict(id)
	if !ok {
		return nil, nil, 0, &UnknownDictError{ID: id}
	}
	enc, err := c.encoder()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("zstd dictionary %d: %w", id, err)
	}
	h, hz := compressWith(enc, []byte(headers), minCompressDict)
	b, bz := compressWith(enc, body, minCompressDict)
	if hz {
		flags |= HeadersZstd
	}
	if bz {
		flags |= BodyZstd
	}
	return h, b, flags, nil
}

// minCompressDict is MinCompress with a dictionary: a frame's header is a
// few bytes more (the dictionary id), but the dictionary already knows the
// common strings, so short headers shrink too.
const minCompressDict = 32

// DictRatio returns the stored size of samples compressed with the
// registered dictionary id (0: none) over their plain size: what a source's
// payloads keep of their bytes. The trainer compares it with the ratio a
// dictionary reached when it was trained to tell when to retrain.
func DictRatio(id uint32, samples [][]byte) (float64, error) {
	var plain, stored int
	for _, s := range samples {
		_, b, _, err := EncodeDict(id, "", s)
		if err != nil {
			return 0, err
		}
		plain += len(s)
		stored += len(b)
	}
	if plain == 0 {
		return 1, nil
	}
	return float64(stored) / float64(plain), nil
}

// frameDict returns the dictionary id a zstd frame's header names (0 for
// none).
func frameDict(frame []byte) (uint32, error) {
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		return 0, err
	}
	return h.DictionaryID, nil
}

// FrameDicts returns the dictionaries the zstd columns of a stored payload
// name, 0 for a column without one: a store loads the ones not registered
// before decoding the row.
func FrameDicts(flags int, storedHeaders, storedBody []byte) (headers, body uint32) {
	if flags&HeadersZstd != 0 {
		headers, _ = frameDict(storedHeaders)
	}
	if flags&BodyZstd != 0 {
		body, _ = frameDict(storedBody)
	}
	return headers, body
}
