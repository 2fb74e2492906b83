package registry

import (
	"context"
	"testing"
	"time"
)

// next receives one change, failing the test when none comes in time.
func next(t *testing.T, ch <-chan Change) Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		if c.Err != nil {
			t.Fatalf("change of %s: %v", c.Name, c.Err)
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change within 10s")
	}
	panic("unreachable")
}

func TestWatch(t *testing.T) {
	r := openRegistry(t)
	ctx := testCtx(t)
	cartV := deploy(t, r, "cart", "c1", "/cart")
	payV := deploy(t, r, "pay", "p1", "/pay")
	deploy(t, r, "gone", "g1", "/gone")
	if err := r.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := r.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}

	// The replay: every live service, each once, then the marker. A
	// service removed before the watch may show up as a removal.
	live := map[string]string{}
	for {
		c := next(t, ch)
		if c.Replayed {
			if c.Name != "" || c.Service != nil {
				t.Fatalf("Replayed marker carries %q, %+v", c.Name, c.Service)
			}
			break
		}
		if c.Service == nil {
			if c.Name != "gone" {
				t.Fatalf("replay removed %q", c.Name)
			}
			continue
		}
		if _, dup := live[c.Name]; dup {
			t.Fatalf("replay delivered %s twice", c.Name)
		}
		if c.Service.Name != c.Name || c.Revision != c.Service.Revision || c.Revision == 0 {
			t.Fatalf("change %+v does not match its record %+v", c, c.Service)
		}
		live[c.Name] = c.Service.Active
	}
	if len(live) != 2 || live["cart"] != cartV.ID || live["pay"] != payV.ID {
		t.Fatalf("replay = %v; want cart@%s and pay@%s", live, cartV.ID, payV.ID)
	}

	// Then each change, in order.
	cart2 := put(t, r, "cart", "c2", "/cart")
	rev, err := r.Activate(ctx, cart2)
	if err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); c.Name != "cart" || c.Service == nil || c.Service.Active != cart2.ID || c.Revision != rev {
		t.Fatalf("update = %+v; want cart@%s at revision %d", c, cart2.ID, rev)
	}
	newV := deploy(t, r, "new", "n1", "/new")
	if c := next(t, ch); c.Name != "new" || c.Service == nil || c.Service.Active != newV.ID {
		t.Fatalf("creation = %+v; want new@%s", c, newV.ID)
	}
	if err := r.Remove(ctx, "pay"); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); c.Name != "pay" || c.Service != nil || c.Revision == 0 {
		t.Fatalf("removal = %+v; want pay with no record", c)
	}

	// Ending the context closes the channel.
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed 10s after its context ended")
		}
	}
}

func TestWatchEmpty(t *testing.T) {
	r := openRegistry(t)
	ch, err := r.Watch(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); !c.Replayed {
		t.Fatalf("first change of an empty registry = %+v; want the Replayed marker", c)
	}
}
