package manifest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wisp-run/wisp/internal/binding/outbound"
	"github.com/wisp-run/wisp/internal/cron"
	"github.com/wisp-run/wisp/internal/route"
)

var (
	nameRe    = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	bindingRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	idRe      = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$`)
)

// Limits on a manifest's values.
const (
	MaxVars          = 128
	MaxVarBytes      = 5 * 1024
	MaxRoutes        = 100
	MaxMemoryMB      = 4096
	MinMemoryMB      = 16
	MaxTimeoutMS     = 15 * 60 * 1000
	MaxInstancesCap  = 1000
	MaxKeepAliveMS   = 24 * 60 * 60 * 1000
	MaxBatchSizeCap  = 100
	MaxBatchTimeout  = 60
	MaxRetriesCap    = 100
	MaxRetryDelaySec = 12 * 60 * 60
	MaxDeliveryDelay = 12 * 60 * 60
)

// ValidName reports whether s is a valid service name: lowercase letters,
// digits and hyphens, starting with a letter, at most 63 characters.
func ValidName(s string) bool { return nameRe.MatchString(s) }

type checker struct {
	probs []Problem
	// defined reports whether the manifest sets a key (given as its path),
	// so that an explicit zero can be told from a missing key.
	defined func(key ...string) bool
}

func (c *checker) add(key, format string, args ...any) {
	c.probs = append(c.probs, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// validate checks a decoded manifest. defined, when not nil, reports
// whether the manifest sets a key; without it a zero limit counts as unset.
func validate(m *Manifest, defined func(key ...string) bool) []Problem {
	if defined == nil {
		defined = func(...string) bool { return false }
	}
	c := &checker{defined: defined}
	switch {
	case m.Name == "":
		c.add("name", "is required")
	case !ValidName(m.Name):
		c.add("name", "%q is not a valid service name (lowercase letters, digits and '-', starting with a letter, at most 63 characters)", m.Name)
	}
	switch {
	case m.Main == "" && m.Wasm == "":
		c.add("", "one of \"main\" (a JavaScript/TypeScript entry) or \"wasm\" (a WebAssembly module) is required")
	case m.Main != "" && m.Wasm != "":
		c.add("wasm", "\"main\" and \"wasm\" are exclusive; a service is either JavaScript or WebAssembly")
	case m.Main != "":
		c.relFile("main", m.Main)
	default:
		c.relFile("wasm", m.Wasm)
		if !strings.HasSuffix(m.Wasm, ".wasm") {
			c.add("wasm", "%q must name a .wasm file", m.Wasm)
		}
	}
	if m.CompatibilityDate != "" {
		if _, err := time.Parse("2006-01-02", m.CompatibilityDate); err != nil {
			c.add("compatibility_date", "%q is not a date in YYYY-MM-DD form", m.CompatibilityDate)
		}
	}
	if m.Build != nil {
		if strings.TrimSpace(m.Build.Command) == "" {
			c.add("build.command", "is required when [build] is present")
		}
		if m.Build.Cwd != "" {
			c.relPath("build.cwd", m.Build.Cwd)
		}
	}
	c.routes(m.Routes)
	names := map[string]string{}
	c.vars(m.Vars, names)
	c.bindings(m, names)
	c.limits(&m.Limits)
	c.queues(&m.Queues)
	for i, cr := range m.Triggers.Crons {
		if strings.TrimSpace(cr) == "" {
			c.add(fmt.Sprintf("triggers.crons[%d]", i), "is empty")
		} else if _, err := cron.Parse(cr); err != nil {
			c.add(fmt.Sprintf("triggers.crons[%d]", i), "%v", err)
		}
	}
	for i, h := range m.Outbound.AllowedHosts {
		if _, err := outbound.ParsePattern(h); err != nil {
			c.add(fmt.Sprintf("outbound.allowed_hosts[%d]", i), "%v", err)
		}
	}
	return c.probs
}

// relPath checks that p names something inside the service folder.
// Backslashes count as separators, so a manifest written on Windows is
// judged the same.
func (c *checker) relPath(key, p string) {
	slashed := strings.ReplaceAll(p, "\\", "/")
	clean := path.Clean(slashed)
	switch {
	case strings.ContainsRune(p, 0):
		c.add(key, "%q contains a NUL byte", p)
	case path.IsAbs(slashed) || (len(p) > 1 && p[1] == ':'):
		c.add(key, "%q must be a path relative to the service folder", p)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		c.add(key, "%q points outside the service folder", p)
	}
}

// relFile is relPath for a key that names a file, not a folder.
func (c *checker) relFile(key, p string) {
	if clean := path.Clean(strings.ReplaceAll(p, "\\", "/")); clean == "." || strings.HasSuffix(p, "/") {
		c.add(key, "%q must name a file", p)
		return
	}
	c.relPath(key, p)
}

func (c *checker) routes(rs []string) {
	if len(rs) > MaxRoutes {
		c.add("routes", "has %d routes; at most %d are allowed", len(rs), MaxRoutes)
	}
	seen := map[string]int{}
	for i, r := range rs {
		key := fmt.Sprintf("routes[%d]", i)
		p, err := route.Parse(r)
		if err != nil {
			c.add(key, "%v", err)
			continue
		}
		if j, dup := seen[p.Key()]; dup {
			c.add(key, "%q repeats routes[%d]", r, j)
			continue
		}
		seen[p.Key()] = i
	}
}

func (c *checker) vars(vars map[string]any, names map[string]string) {
	if len(vars) > MaxVars {
		c.add("vars", "has %d entries; at most %d are allowed", len(vars), MaxVars)
	}
	for _, k := range sortedKeys(vars) {
		key := "vars." + k
		if !bindingRe.MatchString(k) {
			c.add(key, "%q is not a valid name (letters, digits and '_', not starting with a digit)", k)
			continue
		}
		names[k] = key
		if err := checkVarValue(vars[k]); err != nil {
			c.add(key, "%v", err)
			continue
		}
		if n := varSize(vars[k]); n > MaxVarBytes {
			c.add(key, "is %d bytes; a var may be at most %d bytes", n, MaxVarBytes)
		}
	}
}

func checkVarValue(v any) error {
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return fmt.Errorf("is not valid UTF-8")
		}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%v is not a finite number", v)
		}
	case int64, bool:
	case []any:
		for _, e := range v {
			if err := checkVarValue(e); err != nil {
				return err
			}
		}
	case []map[string]any:
		for _, e := range v {
			if err := checkVarValue(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range v {
			if err := checkVarValue(e); err != nil {
				return err
			}
		}
	case time.Time:
		return fmt.Errorf("date/time values are not supported; quote it as a string")
	default:
		return fmt.Errorf("unsupported value of type %T", v)
	}
	return nil
}

// varSize is the size of a var as the code receives it: a string's bytes,
// or the length of any other value's JSON encoding.
func varSize(v any) int {
	if s, ok := v.(string); ok {
		return len(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0 // checkVarValue has refused what JSON cannot encode
	}
	return len(b)
}

// bindings checks every [[...]] table that hands env.NAME to the code:
// names valid and unique across vars and all bindings.
func (c *checker) bindings(m *Manifest, names map[string]string) {
	claim := func(key, name string) {
		switch {
		case name == "":
			c.add(key+".binding", "is required")
		case !bindingRe.MatchString(name):
			c.add(key+".binding", "%q is not a valid binding name (letters, digits and '_', not starting with a digit)", name)
		default:
			if prev, dup := names[name]; dup {
				c.add(key+".binding", "%q is already used by %s", name, prev)
				return
			}
			names[name] = key + ".binding"
		}
	}
	for i, kv := range m.KVNamespaces {
		key := fmt.Sprintf("kv_namespaces[%d]", i)
		claim(key, kv.Binding)
		if kv.ID != "" && !idRe.MatchString(kv.ID) {
			c.add(key+".id", "%q is not a valid namespace id (lowercase letters, digits, '-' and '_')", kv.ID)
		}
	}
	bucket := func(table string, bs []Bucket) {
		for i, b := range bs {
			key := fmt.Sprintf("%s[%d]", table, i)
			claim(key, b.Binding)
			if b.BucketName != "" && !idRe.MatchString(b.BucketName) {
				c.add(key+".bucket_name", "%q is not a valid bucket name (lowercase letters, digits, '-' and '_')", b.BucketName)
			}
		}
	}
	bucket("buckets", m.Buckets)
	bucket("r2_buckets", m.R2Buckets)
	for i, s := range m.Services {
		key := fmt.Sprintf("services[%d]", i)
		claim(key, s.Binding)
		switch {
		case s.Service == "":
			c.add(key+".service", "is required")
		case !ValidName(s.Service):
			c.add(key+".service", "%q is not a valid service name", s.Service)
		}
	}
	for i, p := range m.Queues.Producers {
		key := fmt.Sprintf("queues.producers[%d]", i)
		claim(key, p.Binding)
		c.queueName(key+".queue", p.Queue)
		c.between(key+".delivery_delay", p.DeliveryDelay, 0, MaxDeliveryDelay)
	}
}

func (c *checker) queueName(key, q string) {
	switch {
	case q == "":
		c.add(key, "is required")
	case !idRe.MatchString(q):
		c.add(key, "%q is not a valid queue name (lowercase letters, digits, '-' and '_')", q)
	}
}

func (c *checker) queues(q *Queues) {
	seen := map[string]int{}
	for i, qc := range q.Consumers {
		key := fmt.Sprintf("queues.consumers[%d]", i)
		c.queueName(key+".queue", qc.Queue)
		if j, dup := seen[qc.Queue]; dup && qc.Queue != "" {
			c.add(key+".queue", "%q is already consumed by queues.consumers[%d]", qc.Queue, j)
		} else {
			seen[qc.Queue] = i
		}
		c.between(key+".max_batch_size", qc.MaxBatchSize, 0, MaxBatchSizeCap)
		c.between(key+".max_batch_timeout", qc.MaxBatchTimeout, 0, MaxBatchTimeout)
		if qc.MaxRetries != nil {
			c.between(key+".max_retries", *qc.MaxRetries, 0, MaxRetriesCap)
		}
		c.between(key+".retry_delay", qc.RetryDelay, 0, MaxRetryDelaySec)
		c.between(key+".max_concurrency", qc.MaxConcurrency, 0, MaxInstancesCap)
		if qc.DeadLetterQueue != "" {
			c.queueName(key+".dead_letter_queue", qc.DeadLetterQueue)
			if qc.DeadLetterQueue == qc.Queue {
				c.add(key+".dead_letter_queue", "must differ from the queue it serves")
			}
		}
	}
}

func (c *checker) between(key string, v, lo, hi int) {
	if v < lo || v > hi {
		c.add(key, "must be between %d and %d, got %d", lo, hi, v)
	}
}

// limits checks [limits]. A key left out gets its default later; a key set
// to zero is out of range like any other bad value.
func (c *checker) limits(l *Limits) {
	set := func(key string, v int) bool { return v != 0 || c.defined("limits", key) }
	if set("memory_mb", l.MemoryMB) {
		c.between("limits.memory_mb", l.MemoryMB, MinMemoryMB, MaxMemoryMB)
	}
	if set("timeout_ms", l.TimeoutMS) {
		c.between("limits.timeout_ms", l.TimeoutMS, 1, MaxTimeoutMS)
	}
	c.between("limits.min_instances", l.MinInstances, 0, MaxInstancesCap)
	if set("keep_alive_ms", l.KeepAliveMS) {
		c.between("limits.keep_alive_ms", l.KeepAliveMS, 1, MaxKeepAliveMS)
	}
	if set("max_instances", l.MaxInstances) {
		c.between("limits.max_instances", l.MaxInstances, 1, MaxInstancesCap)
		if l.MaxInstances >= 1 && l.MinInstances > l.MaxInstances {
			c.add("limits.min_instances", "%d is more than limits.max_instances (%d)", l.MinInstances, l.MaxInstances)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
