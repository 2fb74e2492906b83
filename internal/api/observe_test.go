package api

import (
	"testing"
	"time"
)

func TestParseUsageSince(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC)
	today := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{"empty is today", "", today, false},
		{"days", "7d", today.AddDate(0, 0, -7), false},
		{"zero days", "0d", today, false},
		{"duration", "36h", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), false},
		{"date", "2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false},
		{"rfc3339", "2026-11-20T23:00:00+02:00", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), false},
		{"negative days", "-1d", time.Time{}, true},
		{"negative duration", "-5h", time.Time{}, true},
		{"words", "last week", time.Time{}, true},
		{"days not a number", "xd", time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUsageSince(tc.in, now)
			if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
				t.Fatalf("ParseUsageSince(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func FuzzParseUsageSince(f *testing.F) {
	for _, s := range []string{"", "7d", "36h", "2026-11-01", "2026-11-20T23:00:00Z", "-1d", "99999999999999999999d", "d"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseUsageSince(s, now)
		if err != nil {
			return
		}
		if got.Hour() != 0 || got.Minute() != 0 || got.Second() != 0 || got.Nanosecond() != 0 {
			t.Fatalf("%q: %v is not the start of a day", s, got)
		}
	})
}
