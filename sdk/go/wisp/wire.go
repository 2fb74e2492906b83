package wisp

import (
	"encoding/binary"
	"errors"
	"unsafe"
)

// appendList encodes a string list: u32 count, then u32 length and bytes
// of each string, little-endian (docs/abi.md).
func appendList(b []byte, ss ...string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ss)))
	for _, s := range ss {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

var errList = errors.New("wisp: malformed string list from the host")

// viewList decodes a string list whose strings point into b, which the
// caller must never change afterwards.
func viewList(b []byte) ([]string, error) {
	if len(b) < 4 {
		return nil, errList
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n)*4 > uint64(len(b)-4) {
		return nil, errList
	}
	out := make([]string, 0, n)
	b = b[4:]
	for range n {
		if len(b) < 4 {
			return nil, errList
		}
		l := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, errList
		}
		out = append(out, unsafe.String(unsafe.SliceData(b), int(l)))
		b = b[l:]
	}
	return out, nil
}

// parseList decodes a string list at the start of b; it returns the
// strings and the bytes that follow it.
func parseList(b []byte) ([]string, []byte, error) {
	if len(b) < 4 {
		return nil, nil, errList
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n)*4 > uint64(len(b)-4) {
		return nil, nil, errList
	}
	out := make([]string, 0, n)
	b = b[4:]
	for range n {
		if len(b) < 4 {
			return nil, nil, errList
		}
		l := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, nil, errList
		}
		out = append(out, string(b[:l]))
		b = b[l:]
	}
	return out, b, nil
}
