package registry

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

const baseTOML = `name = "cart"
main = "src/index.js"
routes = ["/api/cart/*", "shop.example.com/cart"]

[vars]
CURRENCY = "EUR"

[limits]
memory_mb = 64
`

func TestNewVersionContentAddressed(t *testing.T) {
	baseCode := "export default { fetch() { return new Response('hi') } }"
	base := NewVersion(parse(t, baseTOML), baseTOML, []byte(baseCode))
	if len(base.ID) != 12 || !strings.HasPrefix(base.Digest, base.ID) || len(base.Digest) != 64 {
		t.Fatalf("ID %q, Digest %q: want the first 12 of 64 hex digits", base.ID, base.Digest)
	}
	if base.Service != "cart" || base.Kind != "js" || base.CodeSize != int64(len(baseCode)) || len(base.CodeDigest) != 64 {
		t.Fatalf("version = %+v", base)
	}
	tests := []struct {
		name     string
		toml     string // replaces baseTOML when set
		code     string // replaces baseCode when set
		sameID   bool
		wantKind string
	}{
		{name: "same content", sameID: true},
		{
			name: "comments, layout, key order and spelled-out defaults",
			toml: `# the cart service
main = "src/index.js"   # entry
name = "cart"
routes = [
  "/api/cart/*",
  "shop.example.com/cart",
]
[limits]
timeout_ms = 30000 # the default
memory_mb = 64
[vars]
CURRENCY = "EUR"
`,
			sameID: true,
		},
		{name: "name", toml: strings.Replace(baseTOML, `"cart"`, `"cart2"`, 1)},
		{name: "main", toml: strings.Replace(baseTOML, "src/index.js", "src/main.js", 1)},
		{name: "kind", toml: strings.Replace(baseTOML, `main = "src/index.js"`, `wasm = "cart.wasm"`, 1), wantKind: "wasm"},
		{name: "route changed", toml: strings.Replace(baseTOML, "/api/cart/*", "/api/carts/*", 1)},
		{name: "route order", toml: strings.Replace(baseTOML, `["/api/cart/*", "shop.example.com/cart"]`, `["shop.example.com/cart", "/api/cart/*"]`, 1)},
		{name: "route dropped", toml: strings.Replace(baseTOML, `, "shop.example.com/cart"`, "", 1)},
		{name: "var value", toml: strings.Replace(baseTOML, `"EUR"`, `"USD"`, 1)},
		{name: "var added", toml: strings.Replace(baseTOML, `CURRENCY = "EUR"`, "CURRENCY = \"EUR\"\nDEBUG = true", 1)},
		{name: "limit", toml: strings.Replace(baseTOML, "memory_mb = 64", "memory_mb = 65", 1)},
		{name: "one code byte", code: baseCode[:len(baseCode)-1] + "]"},
		{name: "code appended", code: baseCode + "\n"},
		{name: "code replaced by a space", code: " "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, code := baseTOML, baseCode
			if tc.toml != "" {
				src = tc.toml
			}
			if tc.code != "" {
				code = tc.code
			}
			v := NewVersion(parse(t, src), src, []byte(code))
			if got := v.ID == base.ID; got != tc.sameID {
				t.Fatalf("same ID = %v (%s vs %s); want %v", got, v.ID, base.ID, tc.sameID)
			}
			if (v.Digest == base.Digest) != tc.sameID {
				t.Fatalf("digest equality does not follow ID equality")
			}
			if tc.wantKind != "" && v.Kind != tc.wantKind {
				t.Fatalf("Kind = %q; want %q", v.Kind, tc.wantKind)
			}
			if again := NewVersion(parse(t, src), src, []byte(code)); again.Digest != v.Digest {
				t.Fatalf("NewVersion is not deterministic: %s vs %s", again.Digest, v.Digest)
			}
		})
	}
}

func TestPutVersionIdempotent(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	clock := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r.now = func() time.Time { return clock }

	v, code := build(t, "cart", "code v1", "/cart")
	existed, err := r.PutVersion(ctx, v, code)
	if err != nil || existed {
		t.Fatalf("first put: existed %v, err %v; want false, nil", existed, err)
	}
	if v.Revision == 0 || !v.Created.Equal(clock) {
		t.Fatalf("stored version: Revision %d, Created %v", v.Revision, v.Created)
	}

	clock = clock.Add(time.Hour)
	again, code := build(t, "cart", "code v1", "/cart")
	existed, err = r.PutVersion(ctx, again, code)
	if err != nil || !existed {
		t.Fatalf("second put: existed %v, err %v; want true, nil", existed, err)
	}
	if again.Revision != v.Revision || !again.Created.Equal(v.Created) {
		t.Fatalf("second put returned Revision %d Created %v; want the stored %d %v", again.Revision, again.Created, v.Revision, v.Created)
	}
	if vs, err := r.Versions(ctx, "cart"); err != nil || len(vs) != 1 {
		t.Fatalf("Versions = %d, %v; want 1 version", len(vs), err)
	}

	forged, code := build(t, "cart", "code v1", "/cart")
	forged.Digest = strings.Repeat("0", 64)
	if _, err := r.PutVersion(ctx, forged, code); err == nil || !strings.Contains(err.Error(), "different content") {
		t.Fatalf("put of a different digest under an existing ID: err = %v; want 'different content'", err)
	}
}

func TestVersionsAndResolve(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	// 17 versions: two of them share their first hex digit.
	var want []string
	for i := range 17 {
		v := put(t, r, "cart", "code "+strings.Repeat("x", i))
		want = append(want, v.ID)
	}
	put(t, r, "cart-admin", "other service") // "ver.cart.*" must not list it

	vs, err := r.Versions(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Versions = %v; want oldest first %v", got, want)
	}

	one, err := r.Version(ctx, "cart", want[3])
	if err != nil || one.ID != want[3] || one.Service != "cart" || one.Manifest == nil || one.Manifest.Name != "cart" {
		t.Fatalf("Version = %+v, %v", one, err)
	}
	if _, err := r.Version(ctx, "cart", "000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing Version: err = %v; want ErrNotFound", err)
	}
	if vs, err := r.Versions(ctx, "nothing"); err != nil || len(vs) != 0 {
		t.Fatalf("Versions of an unknown service = %v, %v; want none", vs, err)
	}

	ambiguous := ""
	seen := map[byte]bool{}
	for _, id := range want {
		if seen[id[0]] {
			ambiguous = id[:1]
			break
		}
		seen[id[0]] = true
	}
	unique := want[5][:10]

	tests := []struct {
		name        string
		prefix      string
		wantID      string
		expectedErr string
		notFound    bool
	}{
		{name: "full id", prefix: want[7], wantID: want[7]},
		{name: "unique prefix", prefix: unique, wantID: want[5]},
		{name: "ambiguous prefix", prefix: ambiguous, expectedErr: "is ambiguous"},
		{name: "no match", prefix: "zz", expectedErr: "not found", notFound: true},
		{name: "empty", prefix: "", expectedErr: "empty version id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := r.ResolveVersion(ctx, "cart", tc.prefix)
			if tc.expectedErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.expectedErr) {
					t.Fatalf("err = %v; want %q", err, tc.expectedErr)
				}
				if errors.Is(err, ErrNotFound) != tc.notFound {
					t.Fatalf("errors.Is(err, ErrNotFound) = %v; want %v", !tc.notFound, tc.notFound)
				}
				return
			}
			if err != nil || v.ID != tc.wantID {
				t.Fatalf("ResolveVersion(%q) = %v, %v; want %s", tc.prefix, v, err, tc.wantID)
			}
		})
	}
}

func TestCodeVerifiesDigest(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB: several object chunks
	v := put(t, r, "cart", big, "/cart")
	code, err := r.Code(ctx, v)
	if err != nil || string(code) != big {
		t.Fatalf("Code = %d bytes, %v; want the %d bytes stored", len(code), err, len(big))
	}

	corrupt := []byte(big)
	corrupt[len(corrupt)/2] ^= 1
	if _, err := r.obj.PutBytes(ctx, codeObject(v.Service, v.ID), corrupt); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Code(ctx, v); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Fatalf("Code of corrupted object: err = %v; want a digest mismatch", err)
	}

	if err := r.obj.Delete(ctx, codeObject(v.Service, v.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Code(ctx, v); err == nil || !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("Code of missing object: err = %v; want ErrObjectNotFound", err)
	}
}

func TestActivate(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	r.now = func() time.Time { return clock }

	if _, err := r.Service(ctx, "cart"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Service before activation: err = %v; want ErrNotFound", err)
	}
	v1 := put(t, r, "cart", "v1", "/api/cart/*", "shop.example.com/cart")
	rev1, err := r.Activate(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Service(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	if s.Active != v1.ID || s.Revision != rev1 || !s.Created.Equal(t0) || !s.Updated.Equal(t0) ||
		!slices.Equal(s.Routes, []string{"/api/cart/*", "shop.example.com/cart"}) {
		t.Fatalf("service after first activation = %+v (rev %d)", s, rev1)
	}
	if got := claims(t, r); len(got) != 2 || got["/api/cart/*"] != "cart" || got["shop.example.com/cart"] != "cart" {
		t.Fatalf("claims = %v", got)
	}

	clock = t0.Add(time.Minute)
	v2 := put(t, r, "cart", "v2", "/api/cart/*", "shop.example.com/cart")
	rev2, err := r.Activate(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	s, err = r.Service(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	if rev2 <= rev1 || s.Active != v2.ID || !s.Created.Equal(t0) || !s.Updated.Equal(clock) {
		t.Fatalf("service after second activation = %+v (rev %d after %d)", s, rev2, rev1)
	}

	// Rolling back is activating the older version again.
	if _, err := r.Activate(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Service(ctx, "cart"); s.Active != v1.ID {
		t.Fatalf("Active = %s after rollback; want %s", s.Active, v1.ID)
	}
	checkConsistent(t, r, true)

	all, err := r.Services(ctx)
	if err != nil || len(all) != 1 || all[0].Name != "cart" {
		t.Fatalf("Services = %v, %v", all, err)
	}
}

func TestActivateCollision(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	deploy(t, r, "cart", "cart v1", "/api/cart/*", "/shared")
	before := claims(t, r)

	tests := []struct {
		name     string
		existing []string // routes of a version of "pay" activated first; nil: none
		routes   []string
	}{
		{name: "new service", routes: []string{"/api/pay", "/shared", "/api/pay2"}},
		{name: "existing service adding a route", existing: []string{"/api/pay"}, routes: []string{"/api/pay", "/api/pay/new", "/shared"}},
		{name: "collision on the first route", existing: []string{"/api/pay"}, routes: []string{"/shared", "/api/pay/other"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var old *Service
			if tc.existing != nil {
				deploy(t, r, "pay", "pay base "+tc.name, tc.existing...)
				var err error
				if old, err = r.Service(ctx, "pay"); err != nil {
					t.Fatal(err)
				}
			}
			wantClaims := claims(t, r)
			v := put(t, r, "pay", "pay "+strings.Repeat("!", i), tc.routes...)
			_, err := r.Activate(ctx, v)
			var ce *route.CollisionError
			if !errors.As(err, &ce) {
				t.Fatalf("Activate: err = %v; want *route.CollisionError", err)
			}
			if ce.Route != "/shared" || ce.Owner != "pay" || ce.Other != "cart" {
				t.Fatalf("collision = %+v; want /shared, pay, cart", ce)
			}
			for _, name := range []string{"pay", "cart"} {
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error %q does not name %s", err, name)
				}
			}
			s, err := r.Service(ctx, "pay")
			switch {
			case old == nil && !errors.Is(err, ErrNotFound):
				t.Fatalf("pay's record after a failed first activation: %+v, %v; want none", s, err)
			case old != nil && (err != nil || s.Revision != old.Revision || s.Active != old.Active):
				t.Fatalf("pay's record changed: %+v, %v; want %+v", s, err, old)
			}
			if got := claims(t, r); !maps.Equal(got, wantClaims) {
				t.Fatalf("claims after collision = %v; want %v", got, wantClaims)
			}
			checkConsistent(t, r, true)
			if old != nil {
				if err := r.Remove(ctx, "pay"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if got := claims(t, r); !maps.Equal(got, before) {
		t.Fatalf("claims = %v; want only cart's %v", got, before)
	}
}

func TestActivateReleasesDroppedRoutes(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	deploy(t, r, "cart", "v1", "/a", "/b", "/c")
	deploy(t, r, "cart", "v2", "/a")
	if got := claims(t, r); !maps.Equal(got, map[string]string{"/a": "cart"}) {
		t.Fatalf("claims = %v; want only /a", got)
	}
	// The dropped routes are free at once.
	deploy(t, r, "pay", "p1", "/b", "/c")
	if _, err := r.Activate(ctx, put(t, r, "cart", "v3", "/a", "/b")); err == nil {
		t.Fatal("cart took /b back from pay")
	}
	checkConsistent(t, r, true)
}

func TestStaleClaimTakeover(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	deploy(t, r, "cart", "v1", "/cart")
	// Claims left behind by deploys that crashed between claiming and
	// activating: one of a live service, one of a service that never was.
	for rt, owner := range map[string]string{"/left": "cart", "/ghost": "ghost"} {
		if _, err := r.kv.Create(ctx, routeClaimKey(rt), mustJSON(routeClaim{Service: owner, Route: rt})); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name      string
		route     string
		later     time.Duration
		wantOwner string // "" wants a collision
	}{
		{name: "fresh leftover claim", route: "/left"},
		{name: "fresh claim of a missing service", route: "/ghost"},
		{name: "just under the stale age", route: "/left", later: staleClaimAge - 5*time.Second},
		{name: "listed claim never goes stale", route: "/cart", later: time.Hour},
		{name: "stale leftover claim", route: "/left", later: staleClaimAge + time.Second, wantOwner: "pay"},
		{name: "stale claim of a missing service", route: "/ghost", later: staleClaimAge + time.Second, wantOwner: "pay"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.now = func() time.Time { return time.Now().Add(tc.later) }
			defer func() { r.now = time.Now }()
			v := put(t, r, "pay", "pay "+strings.Repeat("!", i), tc.route)
			_, err := r.Activate(ctx, v)
			if tc.wantOwner == "" {
				var ce *route.CollisionError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v; want a collision", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := claims(t, r)[tc.route]; got != tc.wantOwner {
				t.Fatalf("%s claimed by %q; want %q", tc.route, got, tc.wantOwner)
			}
		})
	}
	checkConsistent(t, r, true)
}

func TestRemove(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	v1 := deploy(t, r, "cart", "v1", "/a", "/b")
	v2 := deploy(t, r, "cart", "v2", "/a", "/c")
	deploy(t, r, "pay", "p1", "/pay")
	if err := r.Remove(ctx, "cart"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Service(ctx, "cart"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Service after Remove: err = %v; want ErrNotFound", err)
	}
	if vs, err := r.Versions(ctx, "cart"); err != nil || len(vs) != 0 {
		t.Fatalf("Versions after Remove = %v, %v; want none", vs, err)
	}
	for _, v := range []*Version{v1, v2} {
		if _, err := r.obj.GetInfo(ctx, codeObject(v.Service, v.ID)); !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Fatalf("code of %s after Remove: err = %v; want ErrObjectNotFound", v.ID, err)
		}
	}
	if got := claims(t, r); !maps.Equal(got, map[string]string{"/pay": "pay"}) {
		t.Fatalf("claims after Remove = %v; want only pay's", got)
	}
	if all, err := r.Services(ctx); err != nil || len(all) != 1 || all[0].Name != "pay" {
		t.Fatalf("Services after Remove = %v, %v", all, err)
	}
	if err := r.Remove(ctx, "cart"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove: err = %v; want ErrNotFound", err)
	}
	// The name and the routes are free again.
	deploy(t, r, "pay", "p2", "/pay", "/a")
	deploy(t, r, "cart", "v3", "/c")
	checkConsistent(t, r, true)
}

// TestReopen checks that everything survives closing the store and
// opening it again on the same data directory.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenDir(t, dir)
	r := mustOpen(t, st)
	v1 := deploy(t, r, "cart", "v1", "/cart")
	v2 := deploy(t, r, "cart", "v2", "/cart", "/cart/*")
	deploy(t, r, "pay", "p1", "/pay")
	wantSvc, err := r.Service(testCtx(t), "cart")
	if err != nil {
		t.Fatal(err)
	}
	wantClaims := claims(t, r)
	st.Close()

	r = mustOpen(t, storetest.OpenDir(t, dir))
	ctx := testCtx(t)
	s, err := r.Service(ctx, "cart")
	if err != nil || s.Active != v2.ID || s.Revision != wantSvc.Revision || !slices.Equal(s.Routes, wantSvc.Routes) {
		t.Fatalf("cart after reopen = %+v, %v; want %+v", s, err, wantSvc)
	}
	vs, err := r.Versions(ctx, "cart")
	if err != nil || len(vs) != 2 || vs[0].ID != v1.ID || vs[1].ID != v2.ID {
		t.Fatalf("Versions after reopen = %v, %v", vs, err)
	}
	if code, err := r.Code(ctx, vs[0]); err != nil || string(code) != "v1" {
		t.Fatalf("Code after reopen = %q, %v", code, err)
	}
	if got := claims(t, r); !maps.Equal(got, wantClaims) {
		t.Fatalf("claims after reopen = %v; want %v", got, wantClaims)
	}
	var ce *route.CollisionError
	if _, err := r.Activate(ctx, put(t, r, "pay", "p2", "/cart")); !errors.As(err, &ce) {
		t.Fatalf("claim of /cart after reopen: err = %v; want a collision", err)
	}
	if existed, err := r.PutVersion(ctx, v1, []byte("v1")); err != nil || !existed {
		t.Fatalf("PutVersion of a stored version after reopen: existed %v, err %v", existed, err)
	}
	checkConsistent(t, r, true)
}
