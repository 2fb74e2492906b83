package wisp

import (
	"reflect"
	"testing"
)

func TestStringLists(t *testing.T) {
	for _, ss := range [][]string{{}, {""}, {"GET", "http://h/", "id", "0", "A", "b"}} {
		b := appendList(nil, ss...)
		got, rest, err := parseList(append(b, "tail"...))
		if err != nil || !reflect.DeepEqual(got, ss) || string(rest) != "tail" {
			t.Fatalf("%q: got %q %q %v", ss, got, rest, err)
		}
		view, err := viewList(b)
		if err != nil || len(view) != len(ss) {
			t.Fatalf("%q: view %q %v", ss, view, err)
		}
	}
	for _, bad := range [][]byte{nil, {1, 0, 0}, {1, 0, 0, 0}, {1, 0, 0, 0, 9, 0, 0, 0, 'a'}, {0xff, 0xff, 0xff, 0xff}} {
		if _, _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%v) accepted a malformed list", bad)
		}
		if _, err := viewList(bad); err == nil {
			t.Errorf("viewList(%v) accepted a malformed list", bad)
		}
	}
}

// FuzzViewList: never panics; agrees with parseList.
func FuzzViewList(f *testing.F) {
	f.Add(appendList(nil, "a", "bc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, _, errA := parseList(b)
		v, errV := viewList(b)
		if (errA == nil) != (errV == nil) || (errA == nil && !reflect.DeepEqual(a, v)) {
			t.Fatalf("parseList %q %v, viewList %q %v", a, errA, v, errV)
		}
	})
}
