package wasm

import (
	"encoding/binary"
	"fmt"
)

// A string list is the ABI's one binary encoding (docs/abi.md): a
// little-endian u32 count, then for each string a little-endian u32 length
// and its bytes. Headers are lists of alternating names and values.

// appendList appends the encoding of ss to b.
func appendList(b []byte, ss ...string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendString appends one string of a list: its length and its bytes.
func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// parseList decodes a string list at the start of b and returns the
// strings and the number of bytes it took. The strings are copies: b may
// be guest memory.
func parseList(b []byte) ([]string, int, error) {
	if len(b) < 4 {
		return nil, 0, fmt.Errorf("string list: %d bytes is too short for its count", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	// Every string takes at least 4 bytes, which bounds n before allocating.
	if uint64(n)*4 > uint64(len(b)-4) {
		return nil, 0, fmt.Errorf("string list: count %d does not fit in %d bytes", n, len(b))
	}
	// The strings are cut from one copy of b: one allocation, not one
	// per string.
	all := string(b)
	out := make([]string, 0, n)
	off := 4
	for i := uint32(0); i < n; i++ {
		if len(b)-off < 4 {
			return nil, 0, fmt.Errorf("string list: string %d: length is cut off", i)
		}
		l := binary.LittleEndian.Uint32(b[off:])
		off += 4
		if uint64(l) > uint64(len(b)-off) {
			return nil, 0, fmt.Errorf("string list: string %d: length %d runs past the end", i, l)
		}
		out = append(out, all[off:off+int(l)])
		off += int(l)
	}
	return out, off, nil
}
