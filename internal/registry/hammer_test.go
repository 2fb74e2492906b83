package registry

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/route"
)

// hammer runs writers goroutines per service, each activating iters
// versions whose routes are random picks from a small shared set, so that
// services keep colliding and taking over each other's released routes,
// and now and then removing the service. It returns how many activations
// succeeded.
func hammer(t *testing.T, r *Registry, services, writers, iters int) int {
	t.Helper()
	routes := []string{"/a", "/b", "/c", "/d", "/e", "/f", "/g/*", "/h/*", "x.example.com/*", "/i"}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for s := range services {
		name := fmt.Sprintf("svc%d", s)
		for w := range writers {
			wg.Go(func() {
				ctx := testCtx(t)
				rng := rand.New(rand.NewPCG(uint64(s), uint64(w)))
				for i := range iters {
					if rng.IntN(8) == 0 {
						// Now and then a removal races the deploys.
						if err := r.Remove(ctx, name); err != nil && !errors.Is(err, ErrNotFound) && !strings.Contains(err.Error(), "changed while being removed") {
							t.Errorf("remove %s: %v", name, err)
						}
						continue
					}
					var pick []string
					for _, j := range rng.Perm(len(routes))[:1+rng.IntN(3)] {
						pick = append(pick, routes[j])
					}
					v, code := build(t, name, fmt.Sprintf("%s w%d i%d", name, w, i), pick...)
					if _, err := r.PutVersion(ctx, v, code); err != nil {
						t.Errorf("put %s: %v", name, err)
						return
					}
					_, err := r.Activate(ctx, v)
					var ce *route.CollisionError
					switch {
					case err == nil:
						mu.Lock()
						ok++
						mu.Unlock()
					case errors.As(err, &ce):
						if ce.Owner != name || ce.Other == name {
							t.Errorf("collision %+v for %s", ce, name)
						}
					case (isConflict(err) || errors.Is(err, errRaced)) && writers > 1:
						// Lost a race with another deploy of the same service.
					default:
						t.Errorf("activate %s: %v", name, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	return ok
}

// TestActivateHammer: many services activating and removed concurrently,
// over overlapping routes. Afterwards every route is claimed by exactly one
// service, which lists it, and no route is listed twice.
func TestActivateHammer(t *testing.T) {
	r := openRegistry(t)
	ok := hammer(t, r, 8, 1, 20)
	t.Logf("%d activations succeeded", ok)
	if ok == 0 {
		t.Fatal("no activation succeeded")
	}
	checkConsistent(t, r, true)
}

// TestActivateHammerSameService adds concurrent deploys and removals of
// the same service (several admins, or several nodes). Claims may be left behind
// by lost races (they go stale and are taken over later), but no route
// may ever be listed by a service that does not hold its claim.
func TestActivateHammerSameService(t *testing.T) {
	r := openRegistry(t)
	ok := hammer(t, r, 3, 4, 15)
	t.Logf("%d activations succeeded", ok)
	if ok == 0 {
		t.Fatal("no activation succeeded")
	}
	checkConsistent(t, r, false)

	// What lost races left behind goes stale and can be taken over.
	listed := map[string]bool{}
	svcs, err := r.Services(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		for _, rt := range s.Routes {
			listed[rt] = true
		}
	}
	var leftover []string
	for rt := range claims(t, r) {
		if !listed[rt] {
			leftover = append(leftover, rt)
		}
	}
	t.Logf("%d claims left behind: %v", len(leftover), leftover)
	if len(leftover) > 0 {
		r.now = func() time.Time { return time.Now().Add(staleClaimAge + time.Second) }
		deploy(t, r, "sweeper", "sweep", leftover...)
	}
	checkConsistent(t, r, true)
}
