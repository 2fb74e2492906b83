package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openRegistry opens a registry on a fresh embedded JetStream store.
func openRegistry(t testing.TB) *Registry {
	t.Helper()
	return mustOpen(t, storetest.Open(t))
}

func mustOpen(t testing.TB, st *store.Store) *Registry {
	t.Helper()
	r, err := Open(testCtx(t), st)
	if err != nil {
		t.Fatalf("open registry: %v", err)
	}
	return r
}

// manifestTOML is a JS service's wisp.toml declaring routes.
func manifestTOML(name string, routes ...string) string {
	q := make([]string, len(routes))
	for i, r := range routes {
		q[i] = strconv.Quote(r)
	}
	return fmt.Sprintf("name = %q\nmain = \"index.js\"\nroutes = [%s]\n", name, strings.Join(q, ", "))
}

func parse(t testing.TB, src string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Parse(manifest.FileName, []byte(src))
	if err != nil {
		t.Fatalf("parse manifest:\n%s\n%v", src, err)
	}
	return m
}

// build makes (without storing) a version of name serving routes whose
// code is code.
func build(t testing.TB, name, code string, routes ...string) (*Version, []byte) {
	t.Helper()
	src := manifestTOML(name, routes...)
	return NewVersion(parse(t, src), src, []byte(code)), []byte(code)
}

// put builds and stores a version.
func put(t testing.TB, r *Registry, name, code string, routes ...string) *Version {
	t.Helper()
	v, c := build(t, name, code, routes...)
	if _, err := r.PutVersion(testCtx(t), v, c); err != nil {
		t.Fatalf("put version of %s: %v", name, err)
	}
	return v
}

// deploy stores and activates a version.
func deploy(t testing.TB, r *Registry, name, code string, routes ...string) *Version {
	t.Helper()
	v := put(t, r, name, code, routes...)
	if _, err := r.Activate(testCtx(t), v); err != nil {
		t.Fatalf("activate %s@%s: %v", name, v.ID, err)
	}
	return v
}

// claims reads every route claim: route -> owning service.
func claims(t testing.TB, r *Registry) map[string]string {
	t.Helper()
	ctx := testCtx(t)
	keys, err := r.keys(ctx, "route.*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		e, err := r.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var c routeClaim
		if err := json.Unmarshal(e.Value(), &c); err != nil {
			t.Fatalf("decode claim %s: %v", k, err)
		}
		if routeClaimKey(c.Route) != k {
			t.Fatalf("claim %s names route %q", k, c.Route)
		}
		out[c.Route] = c.Service
	}
	return out
}

// checkConsistent checks the registry's invariants: every route a service
// record lists is claimed by that service, no two records list one route
// and, when strict, every claim is listed by its owner's record.
func checkConsistent(t testing.TB, r *Registry, strict bool) {
	t.Helper()
	svcs, err := r.Services(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	cl := claims(t, r)
	listedBy := map[string]string{}
	for _, s := range svcs {
		for _, rt := range s.Routes {
			if other, dup := listedBy[rt]; dup {
				t.Errorf("route %q is listed by both %s and %s", rt, other, s.Name)
			}
			listedBy[rt] = s.Name
			if cl[rt] != s.Name {
				t.Errorf("route %q is listed by %s but claimed by %q", rt, s.Name, cl[rt])
			}
		}
	}
	if !strict {
		return
	}
	for rt, owner := range cl {
		if listedBy[rt] != owner {
			t.Errorf("route %q is claimed by %s but its record does not list it (listed by %q)", rt, owner, listedBy[rt])
		}
	}
}
