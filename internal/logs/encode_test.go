package logs

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// encodeCases are entries whose strings need every kind of escape.
var encodeCases = []Entry{
	{Time: time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC), Service: "hello", Version: "v1", Level: Info, Message: "GET /hello 200 31µs"},
	{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), Service: "s", Version: "v", RequestID: "r-1", TraceID: "0af7651916cd43dd8448eb211c80319c", Level: Error, Kind: KindRequest,
		Message: "quote \" backslash \\ newline \n tab \t cr \r nul \x00 bell \x07 html <a&b> sep \u2028\u2029 emoji 🙂 bad \xff\xfe utf8 end"},
	{Service: "", Version: "", Level: "", Message: ""},
}

// TestAppendEntriesDecodesLikeMarshal: what the store writes decodes to
// the same entries as encoding/json's own encoding of them.
func TestAppendEntriesDecodesLikeMarshal(t *testing.T) {
	for _, es := range [][]Entry{encodeCases, encodeCases[:1], {}} {
		checkEncoding(t, es)
	}
}

func checkEncoding(t *testing.T, es []Entry) {
	t.Helper()
	ref, err := json.Marshal(es)
	if err != nil {
		t.Fatal(err)
	}
	mine := appendEntries(nil, es)
	var want, got []Entry
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mine, &got); err != nil {
		t.Fatalf("our encoding does not decode: %v\n%s", err, mine)
	}
	for i := range want {
		// Compare instants, not time.Time values (locations differ).
		if !want[i].Time.Equal(got[i].Time) {
			t.Fatalf("entry %d: time %v, want %v", i, got[i].Time, want[i].Time)
		}
		want[i].Time, got[i].Time = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("decoded\n%+v\nwant\n%+v\n(encoded %s)", got, want, mine)
	}
}

func FuzzAppendEntries(f *testing.F) {
	for _, e := range encodeCases {
		f.Add(e.Service, e.RequestID, e.Message, int64(e.Time.UnixNano()))
	}
	f.Fuzz(func(t *testing.T, svc, id, msg string, ns int64) {
		checkEncoding(t, []Entry{{Time: time.Unix(0, ns).UTC(), Service: svc, Version: "v", RequestID: id, Level: Warn, Message: msg}})
	})
}

func BenchmarkEncode(b *testing.B) {
	es := make([]Entry, 64)
	for i := range es {
		es[i] = Entry{Time: time.Now(), Service: "hello", Version: "v1abcdef", RequestID: "01JABCDEFGHJKMNPQRSTVWXYZ0", TraceID: "0af7651916cd43dd8448eb211c80319c", Level: Info, Kind: KindRequest, Message: "GET /hello 200 31µs"}
	}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(es)
		}
	})
	var buf []byte
	b.Run("appendEntries", func(b *testing.B) {
		for b.Loop() {
			buf = appendEntries(buf[:0], es)
		}
	})
}
