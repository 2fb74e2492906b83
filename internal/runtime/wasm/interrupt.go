package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Stopping a guest at its deadline. wazero can do it itself
// (WithCloseOnContextDone) by leaving compiled code for Go at the head of
// every loop to look at a flag; Go's own wasm code enters a loop in every
// function, and a Go hello world then runs 3–4× slower (62 µs against
// ~20 µs a request). The exits matter for a second reason: compiled code
// cannot be preempted, and a guest that never returns to Go keeps the Go
// garbage collector from stopping the world, which freezes the whole node.
//
// instrumentLoops therefore adds two mutable globals, a fuel counter and
// an interrupt flag (exported as interruptGlobal), and at the head of
// every loop the instructions
//
//	fuel = fuel - 1
//	if fuel == 0 {
//	  fuel = yieldEvery
//	  memory.grow 0   ;; returns to Go and back: a safe point for the GC
//	  if wisp_interrupt { unreachable }
//	}
//
// which cost a load, a store and a branch. The host sets the flag when the
// call's context ends, and the guest traps within yieldEvery loop
// iterations (well under a millisecond). Code without loops runs a
// bounded number of instructions, and host calls that block watch the
// context themselves. A module the rewriter does not fully understand
// (exception handling, SIMD, atomics, GC types, no memory) is compiled as
// it is with wazero's own checks instead.

// yieldEvery is how many loop iterations run between visits to Go.
const yieldEvery = 10000

const interruptGlobal = "wisp_interrupt"

// Section ids.
const (
	sectionImport = 2
	sectionMemory = 5
	sectionGlobal = 6
	sectionExport = 7
	sectionCode   = 10
)

// sectionRank orders known sections as the binary format requires.
var sectionRank = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

var errUnsupported = errors.New("unsupported")

type section struct {
	id         byte
	start, end int // the whole section, id byte included
	body       []byte
}

func splitSections(code []byte) ([]section, error) {
	if len(code) < len(wasmHeader) || string(code[:len(wasmHeader)]) != string(wasmHeader) {
		return nil, errMalformed
	}
	var out []section
	for i := len(wasmHeader); i < len(code); {
		size, j, err := readU32(code, i+1)
		if err != nil || uint64(j)+uint64(size) > uint64(len(code)) {
			return nil, errMalformed
		}
		out = append(out, section{id: code[i], start: i, end: j + int(size), body: code[j : j+int(size)]})
		i = j + int(size)
	}
	return out, nil
}

// instrumentLoops returns code with an interrupt check at every loop head.
func instrumentLoops(code []byte) ([]byte, error) {
	secs, err := splitSections(code)
	if err != nil {
		return nil, err
	}
	var importedGlobals, definedGlobals uint32
	have := map[byte]bool{}
	for _, s := range secs {
		have[s.id] = true
		switch s.id {
		case sectionImport:
			if importedGlobals, err = countImportedGlobals(s.body); err != nil {
				return nil, err
			}
		case sectionGlobal:
			if definedGlobals, _, err = readU32(s.body, 0); err != nil {
				return nil, err
			}
		case sectionExport:
			if err := checkExportFree(s.body, interruptGlobal); err != nil {
				return nil, err
			}
		}
	}
	if !have[sectionCode] || !have[sectionMemory] {
		return nil, errUnsupported // nothing to instrument, or no memory.grow
	}
	flag, fuel := importedGlobals+definedGlobals, importedGlobals+definedGlobals+1
	check := loopCheck(flag, fuel)

	out := make([]byte, 0, len(code)+len(code)/8)
	out = append(out, wasmHeader...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	newGlobal := []byte{0x7f, 0x01, opI32Const, 0x00, opEnd} // flag: mut i32 = 0
	newGlobal = append(newGlobal, 0x7f, 0x01, opI32Const)    // fuel: mut i32 = yieldEvery
	newGlobal = appendSLEB32(newGlobal, yieldEvery)
	newGlobal = append(newGlobal, opEnd)
	newExport := appendName(nil, interruptGlobal)
	newExport = append(newExport, 0x03) // global
	newExport = binary.AppendUvarint(newExport, uint64(flag))
	insertMissing := func(before byte) {
		for _, id := range []byte{sectionGlobal, sectionExport} {
			if !have[id] && sectionRank[id] < sectionRank[before] {
				have[id] = true
				if id == sectionGlobal {
					emit(id, append([]byte{2}, newGlobal...))
				} else {
					emit(id, append([]byte{1}, newExport...))
				}
			}
		}
	}
	for _, s := range secs {
		if s.id != 0 {
			if _, ok := sectionRank[s.id]; !ok {
				return nil, errUnsupported
			}
			insertMissing(s.id)
		}
		switch s.id {
		case sectionGlobal:
			body, err := appendToVector(s.body, 2, newGlobal)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
		case sectionExport:
			body, err := appendToVector(s.body, 1, newExport)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
		case sectionCode:
			body, err := instrumentCode(s.body, check)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
		default:
			out = append(out, code[s.start:s.end]...)
		}
	}
	return out, nil
}

func appendName(b []byte, name string) []byte {
	b = binary.AppendUvarint(b, uint64(len(name)))
	return append(b, name...)
}

// loopCheck is the code put at the head of every loop (see above).
func loopCheck(flag, fuel uint32) []byte {
	b := []byte{0x23} // global.get fuel
	b = binary.AppendUvarint(b, uint64(fuel))
	b = append(b, opI32Const, 1, 0x6b, 0x24) // i32.const 1, i32.sub, global.set fuel
	b = binary.AppendUvarint(b, uint64(fuel))
	b = append(b, 0x23) // global.get fuel
	b = binary.AppendUvarint(b, uint64(fuel))
	b = append(b, 0x45, 0x04, 0x40, opI32Const) // i32.eqz, if, i32.const yieldEvery
	b = appendSLEB32(b, yieldEvery)
	b = append(b, 0x24) // global.set fuel
	b = binary.AppendUvarint(b, uint64(fuel))
	b = append(b, opI32Const, 0, 0x40, 0, 0x1a, 0x23) // memory.grow 0, drop, global.get flag
	b = binary.AppendUvarint(b, uint64(flag))
	return append(b, 0x04, 0x40, 0x00, opEnd, opEnd) // if unreachable end end
}

// appendToVector adds n encoded entries to a section that is a vector.
func appendToVector(body []byte, n uint32, entries []byte) ([]byte, error) {
	count, i, err := readU32(body, 0)
	if err != nil || uint64(count)+uint64(n) > 0xffffffff {
		return nil, errMalformed
	}
	out := binary.AppendUvarint(nil, uint64(count)+uint64(n))
	out = append(out, body[i:]...)
	return append(out, entries...), nil
}

func readName(b []byte, i int) (string, int, error) {
	n, j, err := readU32(b, i)
	if err != nil || uint64(j)+uint64(n) > uint64(len(b)) {
		return "", 0, errMalformed
	}
	return string(b[j : j+int(n)]), j + int(n), nil
}

func countImportedGlobals(b []byte) (uint32, error) {
	n, i, err := readU32(b, 0)
	if err != nil {
		return 0, err
	}
	var globals uint32
	for range n {
		if _, i, err = readName(b, i); err != nil {
			return 0, err
		}
		if _, i, err = readName(b, i); err != nil {
			return 0, err
		}
		if i >= len(b) {
			return 0, errMalformed
		}
		kind := b[i]
		i++
		switch kind {
		case 0x00: // function: type index
			_, i, err = readU32(b, i)
		case 0x01: // table: reftype, limits
			if i >= len(b) {
				return 0, errMalformed
			}
			i, err = skipLimits(b, i+1)
		case 0x02: // memory: limits
			i, err = skipLimits(b, i)
		case 0x03: // global: valtype, mutability
			globals++
			if i, err = skipValType(b, i); err == nil {
				i++
			}
		default:
			return 0, errUnsupported
		}
		if err != nil {
			return 0, err
		}
	}
	return globals, nil
}

func skipLimits(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	flags := b[i]
	if flags > 0x03 {
		return 0, errUnsupported // memory64 and friends
	}
	_, i, err := readU32(b, i+1)
	if err == nil && flags&1 != 0 {
		_, i, err = readU32(b, i)
	}
	return i, err
}

func checkExportFree(b []byte, name string) error {
	n, i, err := readU32(b, 0)
	if err != nil {
		return err
	}
	for range n {
		var got string
		if got, i, err = readName(b, i); err != nil {
			return err
		}
		if got == name {
			return fmt.Errorf("the module already exports %s", name)
		}
		if i >= len(b) {
			return errMalformed
		}
		if _, i, err = readU32(b, i+1); err != nil {
			return err
		}
	}
	return nil
}

// instrumentCode rewrites a code section's body.
func instrumentCode(b []byte, check []byte) ([]byte, error) {
	n, i, err := readU32(b, 0)
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint(make([]byte, 0, len(b)+len(b)/8), uint64(n))
	var fn []byte
	for range n {
		size, j, err := readU32(b, i)
		if err != nil || uint64(j)+uint64(size) > uint64(len(b)) {
			return nil, errMalformed
		}
		fn, err = instrumentFunc(fn[:0], b[j:j+int(size)], check)
		if err != nil {
			return nil, err
		}
		out = binary.AppendUvarint(out, uint64(len(fn)))
		out = append(out, fn...)
		i = j + int(size)
	}
	if i != len(b) {
		return nil, errMalformed
	}
	return out, nil
}

// instrumentFunc copies one function body (locals, then instructions up
// to its final end) to out, with check after the block type of each loop.
func instrumentFunc(out, b []byte, check []byte) ([]byte, error) {
	groups, i, err := readU32(b, 0)
	if err != nil {
		return nil, err
	}
	for range groups {
		if _, i, err = readU32(b, i); err != nil {
			return nil, err
		}
		if i, err = skipValType(b, i); err != nil {
			return nil, err
		}
	}
	out = append(out, b[:i]...)
	depth := 1
	for depth > 0 {
		if i >= len(b) {
			return nil, errMalformed
		}
		op := b[i]
		start := i
		i++
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			depth++
			if i, err = skipBlockType(b, i); err != nil {
				return nil, err
			}
			if op == 0x03 {
				out = append(out, b[start:i]...)
				out = append(out, check...)
				continue
			}
		case op == 0x0b: // end
			depth--
		case op == 0x00, op == 0x01, op == 0x05, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1:
		case op == 0x0c, op == 0x0d, op == 0x10, op == 0x12, op == 0x14, op == 0x15, op == 0xd2,
			op >= 0x20 && op <= 0x26: // one index
			i, err = skipLEB(b, i)
		case op == 0x0e: // br_table
			var cnt uint32
			if cnt, i, err = readU32(b, i); err == nil {
				for k := uint32(0); k <= cnt && err == nil; k++ {
					i, err = skipLEB(b, i)
				}
			}
		case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
			if i, err = skipLEB(b, i); err == nil {
				i, err = skipLEB(b, i)
			}
		case op == 0x1c: // select t*
			var cnt uint32
			if cnt, i, err = readU32(b, i); err == nil {
				for k := uint32(0); k < cnt && err == nil; k++ {
					i, err = skipValType(b, i)
				}
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores
			i, err = skipMemArg(b, i)
		case op == 0x3f, op == 0x40, op == 0x41, op == 0x42, op == 0xd0: // memory.size/grow, consts, ref.null
			i, err = skipLEB(b, i)
		case op == 0x43:
			i += 4
		case op == 0x44:
			i += 8
		case op >= 0x45 && op <= 0xc4: // numeric
		case op == 0xfc:
			i, err = skipMisc(b, i)
		default:
			return nil, errUnsupported
		}
		if err != nil {
			return nil, err
		}
		if i > len(b) {
			return nil, errMalformed
		}
		out = append(out, b[start:i]...)
	}
	if i != len(b) {
		return nil, errMalformed
	}
	return out, nil
}

func skipLEB(b []byte, i int) (int, error) {
	for k := 0; k < 10; k++ {
		if i >= len(b) {
			return 0, errMalformed
		}
		c := b[i]
		i++
		if c < 0x80 {
			return i, nil
		}
	}
	return 0, errMalformed
}

func skipValType(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return i + 1, nil
	}
	return 0, errUnsupported
}

func skipBlockType(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	if b[i] == 0x40 {
		return i + 1, nil
	}
	if j, err := skipValType(b, i); err == nil {
		return j, nil
	}
	if b[i]&0x40 != 0 && b[i] < 0x80 {
		return 0, errUnsupported // a negative one-byte type we do not know
	}
	return skipLEB(b, i) // a type index
}

func skipMemArg(b []byte, i int) (int, error) {
	align, i, err := readU32(b, i)
	if err != nil {
		return 0, err
	}
	if align&0x40 != 0 { // multi-memory: a memory index follows
		if i, err = skipLEB(b, i); err != nil {
			return 0, err
		}
	}
	return skipLEB(b, i)
}

// skipMisc skips the 0xfc-prefixed instructions (saturating truncation,
// bulk memory, tables).
func skipMisc(b []byte, i int) (int, error) {
	sub, i, err := readU32(b, i)
	if err != nil {
		return 0, err
	}
	args := 0
	switch {
	case sub <= 7:
	case sub == 8, sub == 10, sub == 12, sub == 14:
		args = 2
	case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
		args = 1
	default:
		return 0, errUnsupported
	}
	for range args {
		if i, err = skipLEB(b, i); err != nil {
			return 0, err
		}
	}
	return i, nil
}
