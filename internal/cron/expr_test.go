package cron

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	tests := []struct {
		name, expr, after, want string
	}{
		{"every minute", "* * * * *", "2026-03-01T10:00:30Z", "2026-03-01T10:01:00Z"},
		{"on the minute is strictly after", "* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z"},
		{"every 5 minutes", "*/5 * * * *", "2026-03-01T10:03:00Z", "2026-03-01T10:05:00Z"},
		{"every 5 minutes wraps the hour", "*/5 * * * *", "2026-03-01T10:57:00Z", "2026-03-01T11:00:00Z"},
		{"daily midnight wraps the day", "0 0 * * *", "2026-03-01T10:00:00Z", "2026-03-02T00:00:00Z"},
		{"end of year", "0 0 1 1 *", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"},
		{"range and step", "10-20/5 * * * *", "2026-03-01T10:16:00Z", "2026-03-01T10:20:00Z"},
		{"value with step runs to max", "50/5 * * * *", "2026-03-01T10:56:00Z", "2026-03-01T11:50:00Z"},
		{"list", "1,30 * * * *", "2026-03-01T10:02:00Z", "2026-03-01T10:30:00Z"},
		{"month names", "0 12 1 jun,DEC *", "2026-07-01T00:00:00Z", "2026-12-01T12:00:00Z"},
		{"weekday names", "0 9 * * MON-FRI", "2026-03-06T10:00:00Z", "2026-03-09T09:00:00Z"}, // Fri → Mon
		{"sunday as 7", "0 0 * * 7", "2026-03-02T00:00:00Z", "2026-03-08T00:00:00Z"},
		{"sunday as 0", "0 0 * * 0", "2026-03-02T00:00:00Z", "2026-03-08T00:00:00Z"},
		{"dom or dow when both restricted", "0 0 13 * 5", "2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z"},
		{"dom only when dow is star", "0 0 13 * *", "2026-03-01T00:00:00Z", "2026-03-13T00:00:00Z"},
		{"leap day", "0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"31st skips short months", "0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
		{"non-UTC input is read in UTC", "0 12 * * *", "2026-03-01T13:30:00+02:00", "2026-03-01T12:00:00Z"},
		{"seconds are dropped", "30 10 * * *", "2026-03-01T10:29:59Z", "2026-03-01T10:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			got := e.Next(mustTime(t, tt.after))
			if want := mustTime(t, tt.want); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tt.after, got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
			if got.Location() != time.UTC {
				t.Errorf("Next returned a time in %v, want UTC", got.Location())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, wantErr string }{
		{"", "has 0 fields"},
		{"* * * *", "has 4 fields"},
		{"* * * * * *", "has 6 fields"},
		{"60 * * * *", "minute field \"60\": 60 is out of range (0 to 59)"},
		{"* 24 * * *", "hour field \"24\": 24 is out of range (0 to 23)"},
		{"* * 0 * *", "day of month field \"0\": 0 is out of range (1 to 31)"},
		{"* * * 13 *", "month field \"13\": 13 is out of range (1 to 12)"},
		{"* * * * 8", "day of week field \"8\": 8 is out of range (0 to 7)"},
		{"*/0 * * * *", "step \"0\" must be a number from 1 to 60"},
		{"*/x * * * *", "step \"x\""},
		{"5-1 * * * *", "range \"5-1\" runs backwards"},
		{"a * * * *", "\"a\" is not a number from 0 to 59"},
		{"* * * foo *", "\"foo\" is not a number from 1 to 12 or a name"},
		{"1,,2 * * * *", "empty list element"},
		{"0 0 30 2 *", "never matches a date"},
		{"0 0 31 4,6,9,11 *", "never matches a date"},
		{"-1 * * * *", "is not a number"},
		{"@daily", "has 1 field;"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.expr, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) = %q, want it to contain %q", tt.expr, err, tt.wantErr)
			}
		})
	}
}

// matches is the definition of a match, checked minute by minute.
func (e *Expr) matches(t time.Time) bool {
	return e.minute&(1<<uint(t.Minute())) != 0 && e.hour&(1<<uint(t.Hour())) != 0 &&
		e.month&(1<<uint(t.Month())) != 0 && e.dayMatches(t)
}

// checkAgainstBruteForce compares Next and Prev with a minute-by-minute
// walk over span from start.
func checkAgainstBruteForce(t *testing.T, e *Expr, start time.Time, span time.Duration) {
	t.Helper()
	var want time.Time
	for m := start.Add(time.Minute); m.Before(start.Add(span)); m = m.Add(time.Minute) {
		if e.matches(m) {
			want = m
			break
		}
	}
	if got := e.Next(start); !want.IsZero() && !got.Equal(want) {
		t.Fatalf("%q: Next(%s) = %s, brute force says %s", e, start, got, want)
	}
	want = time.Time{}
	for m := start; m.After(start.Add(-span)); m = m.Add(-time.Minute) {
		if e.matches(m) {
			want = m
			break
		}
	}
	if got := e.Prev(start); !want.IsZero() && !got.Equal(want) {
		t.Fatalf("%q: Prev(%s) = %s, brute force says %s", e, start, got, want)
	}
}

var fieldPieces = [][]string{
	{"*", "*/7", "0", "59", "5-10", "10-50/15", "3,17,44", "30/10"},
	{"*", "*/5", "0", "23", "9-17", "1,13", "22/1"},
	{"*", "1", "15", "31", "1-7", "28-31", "*/10", "29"},
	{"*", "2", "jan,jul", "3-5", "*/4", "12"},
	{"*", "0", "7", "mon-fri", "sat,sun", "1-3", "*/3"},
}

func TestNextMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		var fs []string
		for _, pieces := range fieldPieces {
			fs = append(fs, pieces[r.IntN(len(pieces))])
		}
		e, err := Parse(strings.Join(fs, " "))
		if err != nil {
			continue // e.g. "31" in February only
		}
		at := start.Add(time.Duration(r.IntN(3*365*24*60)) * time.Minute)
		checkAgainstBruteForce(t, e, at, 400*24*time.Hour)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/5 * * * *", "0 0 29 2 *", "1-5/2 0,12 * jan-mar mon-fri", "0 0 30 2 *", "60 * * * *"} {
		f.Add(s, int64(1767225600))
	}
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		at := time.Unix(unix%(200*365*24*3600), 0).UTC()
		next := e.Next(at)
		if next.IsZero() || !next.After(at) || !e.matches(next) {
			t.Fatalf("%q: Next(%s) = %s does not match or is not after", s, at, next)
		}
		if prev := e.Prev(next); !prev.Equal(next) {
			t.Fatalf("%q: Prev(Next) = %s, want %s", s, prev, next)
		}
		if back, err := Parse(e.String()); err != nil || back.Next(at) != next {
			t.Fatalf("%q: String() %q does not parse to the same schedule", s, e.String())
		}
	})
}
