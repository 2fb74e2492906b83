package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/blob"
	"github.com/wisp-run/wisp/internal/binding/kv"
	"github.com/wisp-run/wisp/internal/binding/objects"
	"github.com/wisp-run/wisp/internal/binding/outbound"
	"github.com/wisp-run/wisp/internal/binding/secrets"
	"github.com/wisp-run/wisp/internal/binding/service"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/registry"
)

// Blob sweeping: how often, and how old an unowned blob must be before it
// is removed (older than any write in progress can be).
const (
	sweepEvery = 10 * time.Minute
	sweepGrace = time.Hour
)

// dataPlane is what bindings reach: the node's KV, object storage,
// secrets, outbound client and service bindings.
type dataPlane struct {
	blobs    *blob.Store
	kv       *kv.Store
	objects  *objects.Store
	secrets  *secrets.Store
	outbound *outbound.Client
	services *service.Binder
	stop     context.CancelFunc
	done     chan struct{}
}

// openData opens the binding backends (after the store and registry).
func (n *Node) openData(ctx context.Context) (err error) {
	d := &dataPlane{}
	n.data = d
	if d.blobs, err = blob.Open(ctx, n.store); err != nil {
		return err
	}
	if d.kv, err = kv.Open(ctx, n.store, d.blobs, kv.Config{Now: n.cfg.Now}); err != nil {
		return err
	}
	if d.objects, err = objects.Open(ctx, n.store, d.blobs); err != nil {
		return err
	}
	if d.secrets, err = secrets.Open(ctx, n.store, n.cfg.DataDir); err != nil {
		return err
	}
	if kerr := d.secrets.KeyError(); kerr != nil {
		n.log.Error("secrets are unavailable on this node; services that have secrets will not load here", "error", kerr)
	}
	d.outbound = outbound.NewClient(outbound.Config{AllowNets: n.cfg.OutboundAllowNets})
	d.services = service.NewBinder(n.loadedService, service.Config{MaxBodyBytes: n.cfg.MaxBodyBytes, Logs: n.sink, Log: n.log})
	sctx, stop := context.WithCancel(context.Background())
	d.stop, d.done = stop, make(chan struct{})
	go n.sweepBlobs(sctx, d.done)
	return nil
}

func (n *Node) closeData() {
	d := n.data
	if d == nil {
		return
	}
	if d.stop != nil {
		d.stop()
		<-d.done
	}
	if d.outbound != nil {
		d.outbound.Close()
	}
	if d.blobs != nil {
		d.blobs.Close()
	}
	n.data = nil
}

// loadedService is the active version of a service loaded on this node.
func (n *Node) loadedService(name string) *dispatch.Service {
	return n.snap.Load().Services[name]
}

// bindings builds what a version's code can reach from its manifest.
func (n *Node) bindings(ctx context.Context, m *manifest.Manifest) (*binding.Env, error) {
	d := n.data
	env := &binding.Env{Vars: m.Vars}
	taken := map[string]bool{}
	for name := range m.Vars {
		taken[name] = true
	}
	for _, b := range m.KVNamespaces {
		ns, err := kvNamespace(d.kv, m.Name, b)
		if err != nil {
			return nil, err
		}
		if env.KV == nil {
			env.KV = map[string]binding.KV{}
		}
		env.KV[b.Binding], taken[b.Binding] = ns, true
	}
	for _, b := range m.Buckets {
		bk, err := bucket(d.objects, m.Name, b)
		if err != nil {
			return nil, err
		}
		if env.Buckets == nil {
			env.Buckets = map[string]binding.Bucket{}
		}
		env.Buckets[b.Binding], taken[b.Binding] = bk, true
	}
	for _, b := range m.Services {
		if env.Services == nil {
			env.Services = map[string]binding.Service{}
		}
		env.Services[b.Binding], taken[b.Binding] = d.services.Binding(m.Name, b.Binding, b.Service), true
	}
	for _, p := range m.Queues.Producers {
		taken[p.Binding] = true
	}
	n.addQueueBindings(env, m)
	f, err := d.outbound.Fetcher(m.Outbound.AllowedHosts)
	if err != nil {
		return nil, err
	}
	env.Fetch = f
	vals, err := d.secrets.Values(ctx, m.Name)
	if err != nil {
		return nil, err
	}
	for name, v := range vals {
		if taken[name] {
			continue // vars and bindings win; the deploy warned
		}
		if env.Secrets == nil {
			env.Secrets = map[string]string{}
		}
		env.Secrets[name] = v
	}
	return env, nil
}

func kvNamespace(s *kv.Store, service string, b manifest.KVNamespace) (*kv.Namespace, error) {
	if b.ID != "" {
		return s.Named(b.ID)
	}
	return s.Private(service, b.Binding)
}

func bucket(s *objects.Store, service string, b manifest.Bucket) (*objects.Bucket, error) {
	if b.BucketName != "" {
		return s.Named(b.BucketName)
	}
	return s.Private(service, b.Binding)
}

// bindingWarnings are what a deploy should tell about its bindings:
// service bindings to services that do not exist (yet), and secrets
// hidden by a var or binding of the same name.
func (n *Node) bindingWarnings(ctx context.Context, m *manifest.Manifest) []string {
	var out []string
	for i, b := range m.Services {
		if b.Service == m.Name {
			out = append(out, fmt.Sprintf("services[%d]: %s binds the service itself; calls through it will fail (a service may not call itself through a binding)", i, b.Binding))
			continue
		}
		_, err := n.reg.Service(ctx, b.Service)
		if errors.Is(err, registry.ErrNotFound) {
			out = append(out, fmt.Sprintf("services[%d]: %s binds service %q, which does not exist; env.%s.fetch() fails until it is deployed", i, b.Binding, b.Service, b.Binding))
		}
	}
	list, err := n.data.secrets.List(ctx, m.Name)
	if err != nil {
		return out
	}
	names := map[string]bool{}
	for k := range m.Vars {
		names[k] = true
	}
	for _, b := range m.KVNamespaces {
		names[b.Binding] = true
	}
	for _, b := range m.Buckets {
		names[b.Binding] = true
	}
	for _, b := range m.Services {
		names[b.Binding] = true
	}
	for _, s := range list {
		if names[s.Name] {
			out = append(out, fmt.Sprintf("secret %s is hidden by a var or binding of the same name; env.%s is not the secret", s.Name, s.Name))
		}
	}
	return out
}

// secretsRev is the registry's secrets revision of a service (0 when it
// does not exist yet).
func (n *Node) secretsRev(ctx context.Context, name string) uint64 {
	s, err := n.reg.Service(ctx, name)
	if err != nil {
		return 0
	}
	return s.SecretsRev
}

// sweepBlobs removes blobs no record owns (left by crashes, overwritten
// large KV values and expired keys), now and then, until ctx ends.
func (n *Node) sweepBlobs(ctx context.Context, done chan struct{}) {
	defer close(done)
	d := n.data
	live := func(ctx context.Context, owner, id string) (bool, error) {
		stream, subject, _ := strings.Cut(owner, " ")
		switch stream {
		case d.kv.Records().Name():
			return d.kv.LiveBlob(ctx, subject, id)
		case d.objects.Records().Name():
			return d.objects.LiveBlob(ctx, subject, id)
		}
		return true, nil // not ours to judge
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if removed, err := d.blobs.Sweep(ctx, sweepGrace, live); err != nil && ctx.Err() == nil {
			n.log.Warn("sweeping blobs", "error", err)
		} else if removed > 0 {
			n.log.Info("removed blobs no record owns", "count", removed)
		}
		t.Reset(sweepEvery)
	}
}
