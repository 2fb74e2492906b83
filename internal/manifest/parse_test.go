package manifest

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// head is the smallest valid manifest; cases append to it, so their own
// lines start at line 3.
const head = "name = \"cart\"\nmain = \"src/index.ts\"\n"

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		expectedErr string
	}{
		// Keys the schema does not know.
		{
			name:        "unknown top-level key",
			input:       head + "rotues = [\"/a\"]\n",
			expectedErr: "wisp.toml: rotues: unknown key",
		},
		{
			name:        "unknown key in limits",
			input:       head + "[limits]\nmemory = 64\n",
			expectedErr: "wisp.toml: limits.memory: unknown key",
		},
		{
			name:        "unknown table is reported once",
			input:       head + "[durable_objects]\nbindings = []\nclass = \"X\"\n",
			expectedErr: "wisp.toml: durable_objects: unknown key",
		},
		{
			name:        "unknown key in an array of tables",
			input:       head + "[[kv_namespaces]]\nbinding = \"CARTS\"\npreview_id = \"x\"\n",
			expectedErr: "wisp.toml: kv_namespaces.preview_id: unknown key",
		},
		// Wrong types: the decoder knows the line.
		{
			name:        "name is an integer",
			input:       "name = 1\nmain = \"a.js\"\n",
			expectedErr: "wisp.toml:1: name: expected a string, got an integer",
		},
		{
			name:        "routes is a string",
			input:       head + "routes = \"/api/*\"\n",
			expectedErr: "wisp.toml:3: routes: expected an array, got a string",
		},
		{
			name:        "routes holds an integer",
			input:       head + "routes = [1]\n",
			expectedErr: "wisp.toml:3: routes: expected a string, got an integer",
		},
		{
			name:        "memory_mb is a string",
			input:       head + "[limits]\nmemory_mb = \"x\"\n",
			expectedErr: "wisp.toml:4: limits.memory_mb: expected an integer, got a string",
		},
		{
			name:        "memory_mb is a float",
			input:       head + "[limits]\nmemory_mb = 1.5\n",
			expectedErr: "wisp.toml:4: limits.memory_mb: expected an integer, got a float",
		},
		{
			name:        "limits is an integer",
			input:       head + "limits = 5\n",
			expectedErr: "wisp.toml:3: limits: expected a table, got an integer",
		},
		{
			name:        "limits is an array of tables",
			input:       head + "[[limits]]\nmemory_mb = 64\n",
			expectedErr: "wisp.toml:3: limits: expected a table, got an array of tables",
		},
		{
			name:        "vars is an array",
			input:       head + "vars = [1]\n",
			expectedErr: "wisp.toml: vars: expected a table, got an array",
		},
		{
			name:        "vars is an array of tables",
			input:       head + "[[vars]]\nA = 1\n",
			expectedErr: "wisp.toml: vars: expected a table, got an array of tables",
		},
		{
			name:        "vars is a string",
			input:       head + "vars = \"A=1\"\n",
			expectedErr: "wisp.toml: vars: expected a table, got a string",
		},
		{
			name:        "main is a date",
			input:       "name = \"cart\"\nmain = 2024-01-01\n",
			expectedErr: "wisp.toml:2: main: expected a string, got a date/time",
		},
		{
			name:        "binding in the second kv namespace is an integer",
			input:       head + "[[kv_namespaces]]\nbinding = \"A\"\n[[kv_namespaces]]\nbinding = 2\n",
			expectedErr: "wisp.toml:6: kv_namespaces.binding: expected a string, got an integer",
		},
		{
			name:        "queue producer is not a table",
			input:       head + "[queues]\nproducers = [\"orders\"]\n",
			expectedErr: "wisp.toml:4: queues.producers: expected a table, got a string",
		},
		// TOML syntax.
		{
			name:        "unterminated string",
			input:       head + "routes = [\"/a]\n",
			expectedErr: "wisp.toml:3: routes: invalid TOML: strings cannot contain newlines",
		},
		{
			name:        "missing equals sign",
			input:       "name \"cart\"\n",
			expectedErr: "wisp.toml:1: invalid TOML: expected '.' or '=', but got '\"' instead",
		},
		{
			name:        "integer out of range",
			input:       head + "[limits]\nmemory_mb = 99999999999999999999\n",
			expectedErr: "wisp.toml:4: limits.memory_mb: invalid TOML: 99999999999999999999 is out of range for int64",
		},
		{
			name:        "duplicate key",
			input:       head + "name = \"shop\"\n",
			expectedErr: "wisp.toml:3: name: is defined more than once",
		},
		{
			name:        "duplicate key in a table",
			input:       head + "[limits]\nmemory_mb = 64\nmemory_mb = 128\n",
			expectedErr: "wisp.toml:5: limits.memory_mb: is defined more than once",
		},
		{
			name:        "duplicate table",
			input:       head + "[limits]\nmemory_mb = 64\n[limits]\ntimeout_ms = 10\n",
			expectedErr: "wisp.toml:5: limits: is defined more than once",
		},
		// name, main, wasm.
		{
			name:        "missing name",
			input:       "main = \"a.js\"\n",
			expectedErr: "wisp.toml: name: is required",
		},
		{
			name:        "invalid name",
			input:       "name = \"Cart_1\"\nmain = \"a.js\"\n",
			expectedErr: `wisp.toml: name: "Cart_1" is not a valid service name (lowercase letters, digits and '-', starting with a letter, at most 63 characters)`,
		},
		{
			name:        "name too long",
			input:       "name = \"" + strings.Repeat("a", 64) + "\"\nmain = \"a.js\"\n",
			expectedErr: `wisp.toml: name: "` + strings.Repeat("a", 64) + `" is not a valid service name (lowercase letters, digits and '-', starting with a letter, at most 63 characters)`,
		},
		{
			name:        "both main and wasm",
			input:       head + "wasm = \"cart.wasm\"\n",
			expectedErr: `wisp.toml: wasm: "main" and "wasm" are exclusive; a service is either JavaScript or WebAssembly`,
		},
		{
			name:        "neither main nor wasm",
			input:       "name = \"cart\"\n",
			expectedErr: `wisp.toml: one of "main" (a JavaScript/TypeScript entry) or "wasm" (a WebAssembly module) is required`,
		},
		{
			name:        "absolute main",
			input:       "name = \"cart\"\nmain = \"/src/index.ts\"\n",
			expectedErr: `wisp.toml: main: "/src/index.ts" must be a path relative to the service folder`,
		},
		{
			name:        "windows absolute main",
			input:       "name = \"cart\"\nmain = 'C:\\src\\index.ts'\n",
			expectedErr: `wisp.toml: main: "C:\\src\\index.ts" must be a path relative to the service folder`,
		},
		{
			name:        "main escaping the folder",
			input:       "name = \"cart\"\nmain = \"../shared/index.ts\"\n",
			expectedErr: `wisp.toml: main: "../shared/index.ts" points outside the service folder`,
		},
		{
			name:        "main escaping the folder after cleaning",
			input:       "name = \"cart\"\nmain = \"src/../../index.ts\"\n",
			expectedErr: `wisp.toml: main: "src/../../index.ts" points outside the service folder`,
		},
		{
			name:        "main escaping the folder with backslashes",
			input:       "name = \"cart\"\nmain = '..\\index.ts'\n",
			expectedErr: `wisp.toml: main: "..\\index.ts" points outside the service folder`,
		},
		{
			name:        "main is the folder",
			input:       "name = \"cart\"\nmain = \"src/..\"\n",
			expectedErr: `wisp.toml: main: "src/.." must name a file`,
		},
		{
			name:        "wasm not ending in .wasm",
			input:       "name = \"cart\"\nwasm = \"cart.wat\"\n",
			expectedErr: `wisp.toml: wasm: "cart.wat" must name a .wasm file`,
		},
		{
			name:        "build without command",
			input:       head + "[build]\ncwd = \"src\"\n",
			expectedErr: "wisp.toml: build.command: is required when [build] is present",
		},
		{
			name:        "bad compatibility_date",
			input:       head + "compatibility_date = \"2024-13-01\"\n",
			expectedErr: `wisp.toml: compatibility_date: "2024-13-01" is not a date in YYYY-MM-DD form`,
		},
		// Routes.
		{
			name:        "route without leading slash",
			input:       head + "routes = [\"api/cart/*\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "api/cart/*" must start with "/" or with a host name such as "shop.example.com/"`,
		},
		{
			name:        "route with a scheme",
			input:       head + "routes = [\"https://shop.example.com/*\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "https://shop.example.com/*" must not include a scheme; write "shop.example.com/*"`,
		},
		{
			name:        "route with a port",
			input:       head + "routes = [\"shop.example.com:8080/*\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "shop.example.com:8080/*": host "shop.example.com:8080" must not include a port (routes match any port)`,
		},
		{
			name:        "route with a wildcard in the middle",
			input:       head + "routes = [\"/api/*/items\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "/api/*/items": a wildcard is only allowed as the final "/*"`,
		},
		{
			name:        "route with a dot segment",
			input:       head + "routes = [\"/api/./cart\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "/api/./cart": path must not contain "." segments (requests are matched after they are removed)`,
		},
		{
			name:        "route with an encoded dot-dot segment",
			input:       head + "routes = [\"/api/%2E%2e/*\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "/api/%2E%2e/*": path must not contain "%2E%2e" segments (requests are matched after they are removed)`,
		},
		{
			name:        "host route without a path",
			input:       head + "routes = [\"shop.example.com\"]\n",
			expectedErr: `wisp.toml: routes[0]: route "shop.example.com" has no path; write "shop.example.com/*" to take every path on that host`,
		},
		{
			name:  "bad routes are all reported",
			input: head + "routes = [\"\", \"/a b\", \"/a//b\", \"/a/\"]\nroutes2 = 1\n",
			expectedErr: "wisp.toml: routes2: unknown key\n" +
				"wisp.toml: routes[0]: route is empty\n" +
				`wisp.toml: routes[1]: route "/a b": path has invalid character ' ' (percent-encode it)` + "\n" +
				`wisp.toml: routes[2]: route "/a//b": path has an empty segment ("//")`,
		},
		{
			name:        "duplicate routes",
			input:       head + "routes = [\"/a/*\", \"/b\", \"/a/*\"]\n",
			expectedErr: `wisp.toml: routes[2]: "/a/*" repeats routes[0]`,
		},
		{
			name:        "duplicate routes differing in host case",
			input:       head + "routes = [\"Shop.Example.com/*\", \"shop.example.com/*\"]\n",
			expectedErr: `wisp.toml: routes[1]: "shop.example.com/*" repeats routes[0]`,
		},
		// Limits.
		{
			name:  "limits out of range",
			input: head + "[limits]\nmemory_mb = 8\ntimeout_ms = 3600000\nmin_instances = -1\nmax_instances = 5000\n",
			expectedErr: "wisp.toml: limits.memory_mb: must be between 16 and 4096, got 8\n" +
				"wisp.toml: limits.timeout_ms: must be between 1 and 900000, got 3600000\n" +
				"wisp.toml: limits.min_instances: must be between 0 and 1000, got -1\n" +
				"wisp.toml: limits.max_instances: must be between 1 and 1000, got 5000",
		},
		{
			name:  "limits set to zero",
			input: head + "[limits]\nmemory_mb = 0\ntimeout_ms = 0\nmax_instances = 0\n",
			expectedErr: "wisp.toml: limits.memory_mb: must be between 16 and 4096, got 0\n" +
				"wisp.toml: limits.timeout_ms: must be between 1 and 900000, got 0\n" +
				"wisp.toml: limits.max_instances: must be between 1 and 1000, got 0",
		},
		{
			name:        "keep_alive_ms out of range",
			input:       head + "[limits]\nkeep_alive_ms = 0\n",
			expectedErr: "wisp.toml: limits.keep_alive_ms: must be between 1 and 86400000, got 0",
		},
		{
			name:        "keep_alive_ms too long",
			input:       head + "[limits]\nkeep_alive_ms = 86400001\n",
			expectedErr: "wisp.toml: limits.keep_alive_ms: must be between 1 and 86400000, got 86400001",
		},
		{
			name:        "min_instances above max_instances",
			input:       head + "[limits]\nmin_instances = 5\nmax_instances = 2\n",
			expectedErr: "wisp.toml: limits.min_instances: 5 is more than limits.max_instances (2)",
		},
		// Vars and bindings.
		{
			name:  "invalid var names",
			input: head + "[vars]\n1X = \"a\"\nMY-VAR = \"b\"\n",
			expectedErr: `wisp.toml: vars.1X: "1X" is not a valid name (letters, digits and '_', not starting with a digit)` + "\n" +
				`wisp.toml: vars.MY-VAR: "MY-VAR" is not a valid name (letters, digits and '_', not starting with a digit)`,
		},
		{
			name:        "datetime var",
			input:       head + "[vars]\nLAUNCH = 2024-05-01T10:00:00Z\n",
			expectedErr: "wisp.toml: vars.LAUNCH: date/time values are not supported; quote it as a string",
		},
		{
			name:        "datetime nested in a var",
			input:       head + "[vars]\nCONF = { at = 10:00:00 }\n",
			expectedErr: "wisp.toml: vars.CONF: date/time values are not supported; quote it as a string",
		},
		{
			name:  "infinite and NaN vars",
			input: head + "[vars]\nA = nan\nB = [1.0, -inf]\n",
			expectedErr: "wisp.toml: vars.A: NaN is not a finite number\n" +
				"wisp.toml: vars.B: -Inf is not a finite number",
		},
		{
			name:  "var too large",
			input: head + "[vars]\nBIG = \"" + strings.Repeat("x", MaxVarBytes+1) + "\"\nLIST = [\"" + strings.Repeat("x", MaxVarBytes) + "\"]\n",
			expectedErr: "wisp.toml: vars.BIG: is 5121 bytes; a var may be at most 5120 bytes\n" +
				"wisp.toml: vars.LIST: is 5124 bytes; a var may be at most 5120 bytes",
		},
		{
			name: "duplicate binding names across vars, kv and services",
			input: head + "[vars]\nCARTS = \"x\"\n" +
				"[[kv_namespaces]]\nbinding = \"CARTS\"\n" +
				"[[r2_buckets]]\nbinding = \"FILES\"\n[[buckets]]\nbinding = \"FILES\"\n" +
				"[[services]]\nbinding = \"CARTS\"\nservice = \"inventory\"\n" +
				"[[queues.producers]]\nbinding = \"FILES\"\nqueue = \"orders\"\n",
			expectedErr: `wisp.toml: kv_namespaces[0].binding: "CARTS" is already used by vars.CARTS` + "\n" +
				`wisp.toml: r2_buckets[0].binding: "FILES" is already used by buckets[0].binding` + "\n" +
				`wisp.toml: services[0].binding: "CARTS" is already used by vars.CARTS` + "\n" +
				`wisp.toml: queues.producers[0].binding: "FILES" is already used by buckets[0].binding`,
		},
		{
			name:  "missing and invalid bindings",
			input: head + "[[kv_namespaces]]\nid = \"shared\"\n[[services]]\nbinding = \"env.X\"\nservice = \"Inventory\"\n",
			expectedErr: "wisp.toml: kv_namespaces[0].binding: is required\n" +
				`wisp.toml: services[0].binding: "env.X" is not a valid binding name (letters, digits and '_', not starting with a digit)` + "\n" +
				`wisp.toml: services[0].service: "Inventory" is not a valid service name`,
		},
		{
			name:        "invalid kv namespace id",
			input:       head + "[[kv_namespaces]]\nbinding = \"CARTS\"\nid = \"Shared NS\"\n",
			expectedErr: `wisp.toml: kv_namespaces[0].id: "Shared NS" is not a valid namespace id (lowercase letters, digits, '-' and '_')`,
		},
		// Queues.
		{
			name: "bad queue names",
			input: head + "[[queues.producers]]\nbinding = \"ORDERS\"\nqueue = \"Orders!\"\n" +
				"[[queues.consumers]]\nmax_batch_size = 10\n",
			expectedErr: `wisp.toml: queues.producers[0].queue: "Orders!" is not a valid queue name (lowercase letters, digits, '-' and '_')` + "\n" +
				"wisp.toml: queues.consumers[0].queue: is required",
		},
		{
			name:        "dead letter queue is the queue itself",
			input:       head + "[[queues.consumers]]\nqueue = \"orders\"\ndead_letter_queue = \"orders\"\n",
			expectedErr: "wisp.toml: queues.consumers[0].dead_letter_queue: must differ from the queue it serves",
		},
		{
			name: "queue consumed twice",
			input: head + "[[queues.consumers]]\nqueue = \"orders\"\n[[queues.consumers]]\nqueue = \"orders\"\n" +
				"[[queues.consumers]]\nqueue = \"orders\"\n",
			expectedErr: `wisp.toml: queues.consumers[1].queue: "orders" is already consumed by queues.consumers[0]` + "\n" +
				`wisp.toml: queues.consumers[2].queue: "orders" is already consumed by queues.consumers[0]`,
		},
		{
			name: "queue settings out of range",
			input: head + "[[queues.producers]]\nbinding = \"ORDERS\"\nqueue = \"orders\"\ndelivery_delay = 50000\n" +
				"[[queues.consumers]]\nqueue = \"orders\"\nmax_batch_size = 1000\nmax_batch_timeout = 61\nmax_retries = -1\nretry_delay = 43201\nmax_concurrency = 1001\n",
			expectedErr: "wisp.toml: queues.producers[0].delivery_delay: must be between 0 and 43200, got 50000\n" +
				"wisp.toml: queues.consumers[0].max_batch_size: must be between 0 and 100, got 1000\n" +
				"wisp.toml: queues.consumers[0].max_batch_timeout: must be between 0 and 60, got 61\n" +
				"wisp.toml: queues.consumers[0].max_retries: must be between 0 and 100, got -1\n" +
				"wisp.toml: queues.consumers[0].retry_delay: must be between 0 and 43200, got 43201\n" +
				"wisp.toml: queues.consumers[0].max_concurrency: must be between 0 and 1000, got 1001",
		},
		// Triggers and outbound.
		{
			name:  "crons with the wrong field count",
			input: head + "[triggers]\ncrons = [\"*/5 * * *\", \"0 0 * * * *\", \" \"]\n",
			expectedErr: `wisp.toml: triggers.crons[0]: "*/5 * * *" has 4 fields; a cron expression has 5 (minute hour day month weekday)` + "\n" +
				`wisp.toml: triggers.crons[1]: "0 0 * * * *" has 6 fields; a cron expression has 5 (minute hour day month weekday)` + "\n" +
				"wisp.toml: triggers.crons[2]: is empty",
		},
		{
			name:  "crons with bad values",
			input: head + "[triggers]\ncrons = [\"60 * * * *\", \"0 0 30 2 *\", \"0 9 * * MON-FRI\"]\n",
			expectedErr: `wisp.toml: triggers.crons[0]: minute field "60": 60 is out of range (0 to 59)` + "\n" +
				`wisp.toml: triggers.crons[1]: "0 0 30 2 *" never matches a date`,
		},
		{
			name:  "blank outbound host",
			input: head + "[outbound]\nallowed_hosts = [\"https://api.example.com\", \"api .example.com\", \"ftp://x.com\", \"https://x.com/path\"]\n",
			expectedErr: "wisp.toml: outbound.allowed_hosts[1]: \"api .example.com\" is not a host pattern: empty or contains spaces (write [scheme://]host[:port], e.g. \"https://api.example.com\" or \"*.example.com:8443\")\n" +
				"wisp.toml: outbound.allowed_hosts[2]: \"ftp://x.com\" is not a host pattern: scheme \"ftp\" is not http, https or * (write [scheme://]host[:port], e.g. \"https://api.example.com\" or \"*.example.com:8443\")\n" +
				"wisp.toml: outbound.allowed_hosts[3]: \"https://x.com/path\" is not a host pattern: only a scheme, a host and a port are allowed (no path, query or user) (write [scheme://]host[:port], e.g. \"https://api.example.com\" or \"*.example.com:8443\")",
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("wisp.toml", []byte(tc.input))
			if err == nil {
				t.Fatalf("expected an error, got manifest %s", m.Canonical())
			}
			if m != nil {
				t.Errorf("expected no manifest with an error, got %+v", m)
			}
			var merr *Error
			if !errors.As(err, &merr) {
				t.Fatalf("expected a *manifest.Error, got %T: %v", err, err)
			}
			if merr.File != "wisp.toml" {
				t.Errorf("File = %q, want wisp.toml", merr.File)
			}
			if got := err.Error(); got != tc.expectedErr {
				t.Errorf("error mismatch\n got: %s\nwant: %s", got, tc.expectedErr)
			}
		})
	}
}

// full uses every table DESIGN.md shows, plus the keys only listed in the
// schema, with comments and the wrangler spelling r2_buckets.
const full = `# The cart service.
name = "cart"
main = "src/index.ts"          # JS/TS entry, bundled by esbuild
compatibility_date = "2024-09-23"
compatibility_flags = ["nodejs_compat"]
routes = ["/api/cart/*", "shop.example.com/cart"]

[build]
command = "npm run build"
cwd = "web"

[vars]
CURRENCY = "EUR"
MAX_ITEMS = 50
RATE = 0.2
BETA = true
TAGS = ["a", "b"]
CONF = { region = "eu", zones = [1, 2] }

[[kv_namespaces]]
binding = "CARTS"

[[kv_namespaces]]
binding = "SESSIONS"
id = "shared-sessions"

[[buckets]]
binding = "IMAGES"
bucket_name = "images"

[[r2_buckets]]
binding = "INVOICES"

[[services]]
binding = "INVENTORY"
service = "inventory"

[[queues.producers]]
binding = "ORDERS"
queue = "orders"
delivery_delay = 30

[[queues.consumers]]
queue = "orders"
max_batch_size = 10
max_batch_timeout = 5
max_retries = 3
retry_delay = 60
dead_letter_queue = "orders-dlq"
max_concurrency = 4

[triggers]
crons = ["*/5 * * * *"]

[limits]
memory_mb = 256
timeout_ms = 10000
min_instances = 1
max_instances = 50

[outbound]
allowed_hosts = ["https://api.example.com"]
`

func TestParse_Full(t *testing.T) {
	m, err := Parse("wisp.toml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	three := 3
	want := &Manifest{
		Name:               "cart",
		Main:               "src/index.ts",
		CompatibilityDate:  "2024-09-23",
		CompatibilityFlags: []string{"nodejs_compat"},
		Routes:             []string{"/api/cart/*", "shop.example.com/cart"},
		Build:              &Build{Command: "npm run build", Cwd: "web"},
		Vars: map[string]any{
			"CURRENCY":  "EUR",
			"MAX_ITEMS": int64(50),
			"RATE":      0.2,
			"BETA":      true,
			"TAGS":      []any{"a", "b"},
			"CONF":      map[string]any{"region": "eu", "zones": []any{int64(1), int64(2)}},
		},
		KVNamespaces: []KVNamespace{{Binding: "CARTS"}, {Binding: "SESSIONS", ID: "shared-sessions"}},
		Buckets:      []Bucket{{Binding: "IMAGES", BucketName: "images"}, {Binding: "INVOICES"}},
		Services:     []ServiceBinding{{Binding: "INVENTORY", Service: "inventory"}},
		Queues: Queues{
			Producers: []QueueProducer{{Binding: "ORDERS", Queue: "orders", DeliveryDelay: 30}},
			Consumers: []QueueConsumer{{
				Queue: "orders", MaxBatchSize: 10, MaxBatchTimeout: 5, MaxRetries: &three,
				RetryDelay: 60, DeadLetterQueue: "orders-dlq", MaxConcurrency: 4,
			}},
		},
		Triggers: Triggers{Crons: []string{"*/5 * * * *"}},
		Limits:   Limits{MemoryMB: 256, TimeoutMS: 10000, MinInstances: 1, MaxInstances: 50},
		Outbound: Outbound{AllowedHosts: []string{"https://api.example.com"}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("manifest mismatch\n got: %s\nwant: %s", m.Canonical(), want.Canonical())
	}
	if m.Kind() != "js" {
		t.Errorf("Kind() = %q, want js", m.Kind())
	}
}

func TestParse_Defaults(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		expected Limits
	}{
		{
			name:     "no limits",
			input:    head,
			expected: Limits{MemoryMB: DefaultMemoryMB, TimeoutMS: DefaultTimeoutMS, MaxInstances: DefaultMaxInstances},
		},
		{
			name:     "defaults are 128 MB, 30 s and 10 instances",
			input:    head,
			expected: Limits{MemoryMB: 128, TimeoutMS: 30000, MaxInstances: 10},
		},
		{
			name:     "some limits",
			input:    head + "[limits]\ntimeout_ms = 500\n",
			expected: Limits{MemoryMB: 128, TimeoutMS: 500, MaxInstances: 10},
		},
		{
			name:     "min_instances above the default max raises the max",
			input:    head + "[limits]\nmin_instances = 20\n",
			expected: Limits{MemoryMB: 128, TimeoutMS: 30000, MinInstances: 20, MaxInstances: 20},
		},
		{
			name:     "explicit min_instances of zero",
			input:    head + "[limits]\nmin_instances = 0\nmax_instances = 1\n",
			expected: Limits{MemoryMB: 128, TimeoutMS: 30000, MaxInstances: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("wisp.toml", []byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if m.Limits != tc.expected {
				t.Errorf("Limits = %+v, want %+v", m.Limits, tc.expected)
			}
		})
	}
}

func TestParse_Wasm(t *testing.T) {
	m, err := Parse("wisp.toml", []byte("name = \"cart\"\nwasm = \"build/cart.wasm\"\n[build]\ncommand = \"make\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind() != "wasm" {
		t.Errorf("Kind() = %q, want wasm", m.Kind())
	}
	if got := m.Features(); !reflect.DeepEqual(got, []string{"wasm"}) {
		t.Errorf("Features() = %q, want [wasm]", got)
	}
}

func TestParse_R2BucketsMergeIntoBuckets(t *testing.T) {
	m, err := Parse("wisp.toml", []byte(head+
		"[[r2_buckets]]\nbinding = \"A\"\nbucket_name = \"a\"\n"+
		"[[buckets]]\nbinding = \"B\"\n"+
		"[[r2_buckets]]\nbinding = \"C\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Bucket{{Binding: "B"}, {Binding: "A", BucketName: "a"}, {Binding: "C"}}
	if !reflect.DeepEqual(m.Buckets, want) {
		t.Errorf("Buckets = %+v, want %+v", m.Buckets, want)
	}
	if m.R2Buckets != nil {
		t.Errorf("R2Buckets = %+v, want nil once merged", m.R2Buckets)
	}
	// The canonical form does not tell the two spellings apart.
	same, err := Parse("wisp.toml", []byte(head+
		"[[buckets]]\nbinding = \"B\"\n"+
		"[[buckets]]\nbinding = \"A\"\nbucket_name = \"a\"\n"+
		"[[buckets]]\nbinding = \"C\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Canonical(), same.Canonical()) {
		t.Errorf("canonical forms differ:\n%s\n%s", m.Canonical(), same.Canonical())
	}
}

func TestCanonical(t *testing.T) {
	a := `name = "cart"
main = "src/index.ts"
routes = ["/api/cart/*"]
[vars]
B = 2
A = "x"
[limits]
max_instances = 5
memory_mb = 64
`
	// The same manifest: other comments, other key order, inline tables,
	// other string quoting, and defaults spelt out.
	b := `# cart
[limits]
memory_mb = 64 # small
max_instances = 5
timeout_ms = 30000

[vars]
A = 'x'
B = 2
`
	b = "main = 'src/index.ts'\nroutes = [ \"/api/cart/*\" ]\nname = \"cart\"\n" + b
	c := strings.Replace(a, "memory_mb = 64", "memory_mb = 65", 1)
	d := strings.Replace(a, `A = "x"`, `A = "y"`, 1)

	ca := mustParse(t, a).Canonical()
	if cb := mustParse(t, b).Canonical(); !bytes.Equal(ca, cb) {
		t.Errorf("same manifest, different canonical forms:\n%s\n%s", ca, cb)
	}
	if !bytes.Equal(ca, mustParse(t, a).Canonical()) {
		t.Error("Canonical is not deterministic")
	}
	for name, other := range map[string]string{"limit": c, "var": d} {
		if cx := mustParse(t, other).Canonical(); bytes.Equal(ca, cx) {
			t.Errorf("%s changed, canonical form did not: %s", name, cx)
		}
	}
}

func TestFeatures(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		expected []string
	}{
		{name: "plain js", input: head, expected: nil},
		{name: "vars, routes and limits are not features", input: head + "routes = [\"/*\"]\n[vars]\nA = 1\n[limits]\nmemory_mb = 64\n", expected: nil},
		{
			name:  "everything",
			input: full,
			expected: []string{
				"buckets", "kv_namespaces", "outbound.allowed_hosts", "queues.consumers",
				"queues.producers", "services", "triggers.crons",
			},
		},
		{name: "r2_buckets count as buckets", input: head + "[[r2_buckets]]\nbinding = \"A\"\n", expected: []string{"buckets"}},
		{name: "empty crons", input: head + "[triggers]\ncrons = []\n", expected: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.input).Features(); !reflect.DeepEqual(got, tc.expected) {
				t.Errorf("Features() = %q, want %q", got, tc.expected)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name     string
		expected bool
	}{
		{"cart", true},
		{"a", true},
		{"cart-v2", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"Cart", false},
		{"2cart", false},
		{"cart-", false},
		{"cart_v2", false},
		{"cart.v2", false},
	}
	for _, tc := range tests {
		if got := ValidName(tc.name); got != tc.expected {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.expected)
		}
	}
}

func TestError_Error(t *testing.T) {
	err := &Error{File: "svc/wisp.toml", Problems: []Problem{
		{Key: "limits.memory_mb", Line: 7, Msg: "expected an integer, got a string"},
		{Key: "name", Msg: "is required"},
		{Msg: "whole-file problem"},
	}}
	want := "svc/wisp.toml:7: limits.memory_mb: expected an integer, got a string\n" +
		"svc/wisp.toml: name: is required\n" +
		"svc/wisp.toml: whole-file problem"
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

func mustParse(t testing.TB, src string) *Manifest {
	t.Helper()
	m, err := Parse("wisp.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
