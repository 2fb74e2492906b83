package cron

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Expr is a parsed cron expression. Times are matched in UTC, to the
// minute.
type Expr struct {
	src    string
	minute uint64 // bit i set: minute i matches
	hour   uint64
	dom    uint64 // bits 1..31
	month  uint64 // bits 1..12
	dow    uint64 // bits 0..6, Sunday is 0
	// Vixie cron: when both day fields are restricted, a day matches if
	// either does; when one is "*", only the other counts.
	domStar, dowStar bool
}

type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	minuteField = field{name: "minute", min: 0, max: 59}
	hourField   = field{name: "hour", min: 0, max: 23}
	domField    = field{name: "day of month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}}
	// 7 is accepted for Sunday, as in most crons.
	dowField = field{name: "day of week", min: 0, max: 7, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}}
)

// maxSearch bounds how far ahead Next looks: every valid expression
// matches within 8 years (a 29 February on a given weekday can take 28,
// but Parse refuses expressions that never match within this span).
const maxSearch = 8 * 366 * 24 * time.Hour

// Parse reads a 5-field cron expression: minute (0-59), hour (0-23), day
// of month (1-31), month (1-12 or JAN-DEC) and day of week (0-7 or
// SUN-SAT, 0 and 7 both Sunday). Each field is "*", a value, a range
// "a-b", a step "*/n" or "a-b/n" or "a/n", or a comma-separated list of
// those. Names are case-insensitive.
func Parse(s string) (*Expr, error) {
	fs := strings.Fields(s)
	if len(fs) != 5 {
		return nil, fmt.Errorf("%q has %d field%s; a cron expression has 5 (minute hour day month weekday)", s, len(fs), plural(len(fs)))
	}
	e := &Expr{src: strings.Join(fs, " ")}
	var err error
	if e.minute, _, err = parseField(fs[0], minuteField); err != nil {
		return nil, err
	}
	if e.hour, _, err = parseField(fs[1], hourField); err != nil {
		return nil, err
	}
	if e.dom, e.domStar, err = parseField(fs[2], domField); err != nil {
		return nil, err
	}
	if e.month, _, err = parseField(fs[3], monthField); err != nil {
		return nil, err
	}
	if e.dow, e.dowStar, err = parseField(fs[4], dowField); err != nil {
		return nil, err
	}
	if e.dow&(1<<7) != 0 {
		e.dow = e.dow&^(1<<7) | 1 // 7 is Sunday
	}
	// Refuse what can never fire ("0 0 30 2 *") rather than schedule nothing.
	base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if e.next(base).IsZero() {
		return nil, fmt.Errorf("%q never matches a date", s)
	}
	return e, nil
}

// String is the expression as written, with single spaces.
func (e *Expr) String() string { return e.src }

func parseField(s string, f field) (set uint64, star bool, err error) {
	if s == "" {
		return 0, false, fmt.Errorf("%s field is empty", f.name)
	}
	for _, part := range strings.Split(s, ",") {
		bitsOf, isStar, err := parsePart(part, f)
		if err != nil {
			return 0, false, fmt.Errorf("%s field %q: %w", f.name, s, err)
		}
		star = star || isStar
		set |= bitsOf
	}
	return set, star && !strings.Contains(s, ","), nil
}

func parsePart(part string, f field) (uint64, bool, error) {
	if part == "" {
		return 0, false, errors.New("empty list element")
	}
	rng, stepStr, hasStep := strings.Cut(part, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepStr)
		if err != nil || n < 1 || n > f.max-f.min+1 {
			return 0, false, fmt.Errorf("step %q must be a number from 1 to %d", stepStr, f.max-f.min+1)
		}
		step = n
	}
	lo, hi := f.min, f.max
	star := false
	switch {
	case rng == "*":
		star = !hasStep
		if f.max == 7 { // "*" in day of week is 0-6; 7 would repeat Sunday
			hi = 6
		}
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if lo, err = value(a, f); err != nil {
			return 0, false, err
		}
		if hi, err = value(b, f); err != nil {
			return 0, false, err
		}
		if lo > hi {
			return 0, false, fmt.Errorf("range %q runs backwards", rng)
		}
	default:
		v, err := value(rng, f)
		if err != nil {
			return 0, false, err
		}
		lo = v
		if hasStep { // "a/n" means a through the maximum
			hi = f.max
		} else {
			hi = v
		}
	}
	var set uint64
	for v := lo; v <= hi; v += step {
		set |= 1 << uint(v)
	}
	return set, star, nil
}

func value(s string, f field) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || len(s) > 2 {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number from %d to %d or a name", s, f.min, f.max)
		}
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, f.min, f.max)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%d is out of range (%d to %d)", v, f.min, f.max)
	}
	return v, nil
}

func (e *Expr) dayMatches(t time.Time) bool {
	dom := e.dom&(1<<uint(t.Day())) != 0
	dow := e.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case e.domStar && e.dowStar:
		return true
	case e.domStar:
		return dow
	case e.dowStar:
		return dom
	}
	return dom || dow
}

// Next is the first time strictly after t (in UTC, on a whole minute) that
// the expression matches.
func (e *Expr) Next(t time.Time) time.Time { return e.next(t) }

func (e *Expr) next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.Add(maxSearch)
	for t.Before(limit) {
		if e.month&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !e.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if e.hour&(1<<uint(t.Hour())) == 0 {
			t = t.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		if m := nextBit(e.minute, t.Minute()); m >= 0 {
			return t.Add(time.Duration(m-t.Minute()) * time.Minute)
		}
		t = t.Truncate(time.Hour).Add(time.Hour)
	}
	return time.Time{}
}

// Prev is the last time at or before t (in UTC, on a whole minute) that the
// expression matches, or the zero time when there is none within the
// search span.
func (e *Expr) Prev(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute)
	limit := t.Add(-maxSearch)
	for t.After(limit) {
		if e.month&(1<<uint(t.Month())) == 0 {
			// the last minute of the previous month
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
			continue
		}
		if !e.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Add(-time.Minute)
			continue
		}
		if e.hour&(1<<uint(t.Hour())) == 0 {
			t = t.Truncate(time.Hour).Add(-time.Minute)
			continue
		}
		if m := prevBit(e.minute, t.Minute()); m >= 0 {
			return t.Add(-time.Duration(t.Minute()-m) * time.Minute)
		}
		t = t.Truncate(time.Hour).Add(-time.Minute)
	}
	return time.Time{}
}

// nextBit is the lowest set bit at or above from, or -1.
func nextBit(set uint64, from int) int {
	rest := set >> uint(from) << uint(from)
	if rest == 0 {
		return -1
	}
	return bits.TrailingZeros64(rest)
}

// prevBit is the highest set bit at or below from, or -1.
func prevBit(set uint64, from int) int {
	rest := set & (1<<uint(from+1) - 1)
	if rest == 0 {
		return -1
	}
	return 63 - bits.LeadingZeros64(rest)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
