package route

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
)

// Entry binds a pattern to a value (a service, in wisp).
type Entry[T any] struct {
	Pattern Pattern // as Parse returns it (lowercase host, checked path)
	Owner   string  // the service that declared it, named in collision errors
	Value   T
}

// CollisionError says two owners declared the same route.
type CollisionError struct {
	Route string // the route in its canonical spelling
	Owner string // the service declaring it now
	Other string // the service that already holds it
}

// Error names the route and both services.
func (e *CollisionError) Error() string {
	if e.Owner == e.Other {
		return fmt.Sprintf("route %q is declared twice by service %q", e.Route, e.Owner)
	}
	return fmt.Sprintf("route %q of service %q collides with the same route of service %q", e.Route, e.Owner, e.Other)
}

// Table is an immutable route table. Match is safe for concurrent use.
type Table[T any] struct {
	exactHosts map[string]*rules[T]
	wildHosts  []wildHost[T] // longest suffix first
	anyHost    *rules[T]
	size       int
}

type wildHost[T any] struct {
	suffix string // ".example.com"
	rules  *rules[T]
}

type rules[T any] struct {
	exact  map[string]*Entry[T]
	prefix map[string]*Entry[T]
}

// Build makes a table of entries, or returns a *CollisionError for the
// first two entries with the same route. The table keeps its own copy of
// entries, so changing the slice afterwards does not change the table.
func Build[T any](entries []Entry[T]) (*Table[T], error) {
	t := &Table[T]{exactHosts: map[string]*rules[T]{}}
	wild := map[string]*rules[T]{}
	entries = slices.Clone(entries)
	for i := range entries {
		e := &entries[i]
		var r *rules[T]
		switch h := e.Pattern.Host; {
		case h == "":
			if t.anyHost == nil {
				t.anyHost = newRules[T]()
			}
			r = t.anyHost
		case strings.HasPrefix(h, "*."):
			if wild[h] == nil {
				wild[h] = newRules[T]()
			}
			r = wild[h]
		default:
			if t.exactHosts[h] == nil {
				t.exactHosts[h] = newRules[T]()
			}
			r = t.exactHosts[h]
		}
		m := r.exact
		if e.Pattern.Prefix {
			m = r.prefix
		}
		if prev, ok := m[e.Pattern.Path]; ok {
			return nil, &CollisionError{Route: e.Pattern.String(), Owner: e.Owner, Other: prev.Owner}
		}
		m[e.Pattern.Path] = e
		t.size++
	}
	for h, r := range wild {
		t.wildHosts = append(t.wildHosts, wildHost[T]{suffix: h[1:], rules: r})
	}
	sort.Slice(t.wildHosts, func(i, j int) bool {
		a, b := t.wildHosts[i].suffix, t.wildHosts[j].suffix
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
	return t, nil
}

func newRules[T any]() *rules[T] {
	return &rules[T]{exact: map[string]*Entry[T]{}, prefix: map[string]*Entry[T]{}}
}

// Len is the number of routes in the table.
func (t *Table[T]) Len() int { return t.size }

// Match finds the most specific route for a request's Host header and
// escaped path. A route on the exact host beats one on a wildcard host
// (the longest wildcard suffix first), which beats one on any host; on the
// same host, an exact path beats a prefix, and a longer prefix beats a
// shorter one. A host whose routes all miss the path falls through to the
// next, less specific host. A path that does not start with "/" (such as
// the "*" of "GET *") matches nothing; any other is cleaned with CleanPath
// first, and "" is "/".
func (t *Table[T]) Match(host, path string) (*Entry[T], bool) {
	if t == nil || t.size == 0 {
		return nil, false
	}
	if path != "" && path[0] != '/' {
		return nil, false
	}
	path = CleanPath(path)
	host = hostname(host)
	if r := t.exactHosts[host]; r != nil {
		if e := r.match(path); e != nil {
			return e, true
		}
	}
	for _, w := range t.wildHosts {
		if strings.HasSuffix(host, w.suffix) && len(host) > len(w.suffix) {
			if e := w.rules.match(path); e != nil {
				return e, true
			}
		}
	}
	if t.anyHost != nil {
		if e := t.anyHost.match(path); e != nil {
			return e, true
		}
	}
	return nil, false
}

func (r *rules[T]) match(path string) *Entry[T] {
	if e, ok := r.exact[path]; ok {
		return e
	}
	if len(r.prefix) == 0 {
		return nil
	}
	p := strings.TrimRight(path, "/")
	for {
		if e, ok := r.prefix[p]; ok {
			return e
		}
		if p == "" {
			return nil
		}
		p = p[:strings.LastIndexByte(p, '/')]
	}
}

// hostname lowercases a Host header and drops its port and the trailing
// dot of a fully qualified name.
func hostname(h string) string {
	if h == "" {
		return h
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

// CleanPath removes "." and ".." segments (also percent-encoded ones) the
// way a WHATWG URL parser does, so routing sees the path the worker sees;
// ".." never climbs above the root. The empty path becomes "/". Paths
// without dot segments are returned as they are, without allocating; a
// path with dot segments that lacks its leading "/" gets one.
func CleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, ".") && !strings.Contains(p, "%2") {
		return p
	}
	if !hasDotSegment(p) {
		return p
	}
	if p[0] != '/' {
		p = "/" + p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch dotSegment(s) {
		case 1:
			if last {
				out = append(out, "")
			}
		case 2:
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

func hasDotSegment(p string) bool {
	for len(p) > 0 {
		seg, rest, _ := strings.Cut(p, "/")
		if dotSegment(seg) != 0 {
			return true
		}
		p = rest
	}
	return false
}
