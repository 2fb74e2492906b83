package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/store"
)

// ErrNotFound is wrapped by errors about a service or version that does
// not exist.
var ErrNotFound = errors.New("not found")

// staleClaimAge is how old a route claim must be before another service
// may take it over when its owner's record no longer lists it (a deploy
// that crashed between claiming and activating).
const staleClaimAge = 30 * time.Second

// Registry reads and writes the records in JetStream.
type Registry struct {
	kv  jetstream.KeyValue
	obj jetstream.ObjectStore
	now func() time.Time
}

// Open opens (creating when missing) the registry's buckets.
func Open(ctx context.Context, st *store.Store) (*Registry, error) {
	kv, err := st.KV(ctx, jetstream.KeyValueConfig{
		Bucket:      store.RegistryBucket,
		Description: "wisp services, versions and route claims",
		History:     8,
	})
	if err != nil {
		return nil, err
	}
	obj, err := st.Objects(ctx, jetstream.ObjectStoreConfig{
		Bucket:      store.ArtifactsBucket,
		Description: "wisp version code",
	})
	if err != nil {
		return nil, err
	}
	return &Registry{kv: kv, obj: obj, now: time.Now}, nil
}

// PutVersion stores v and its code unless a version with the same ID
// exists. It reports whether the version already existed; then v is
// replaced by the stored record.
func (r *Registry) PutVersion(ctx context.Context, v *Version, code []byte) (existed bool, err error) {
	if old, err := r.Version(ctx, v.Service, v.ID); err == nil {
		if old.Digest != v.Digest {
			return false, fmt.Errorf("version %s of %s already exists with different content (digest %s, new %s)", v.ID, v.Service, old.Digest, v.Digest)
		}
		*v = *old
		return true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if _, err := r.obj.PutBytes(ctx, codeObject(v.Service, v.ID), code); err != nil {
		return false, fmt.Errorf("store code of %s@%s: %w", v.Service, v.ID, err)
	}
	v.Created = r.now().UTC()
	data, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("encode version record: %w", err)
	}
	rev, err := r.kv.Create(ctx, versionKey(v.Service, v.ID), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		// A concurrent deploy of the same content won the race.
		old, err := r.Version(ctx, v.Service, v.ID)
		if err != nil {
			return false, err
		}
		*v = *old
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store version record %s@%s: %w", v.Service, v.ID, err)
	}
	v.Revision = rev
	return false, nil
}

// Version reads one version record.
func (r *Registry) Version(ctx context.Context, svc, id string) (*Version, error) {
	e, err := r.kv.Get(ctx, versionKey(svc, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("version %s of service %s: %w", id, svc, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read version %s of %s: %w", id, svc, err)
	}
	return decodeVersion(e)
}

func decodeVersion(e jetstream.KeyValueEntry) (*Version, error) {
	var v Version
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return nil, fmt.Errorf("decode version record %s: %w", e.Key(), err)
	}
	v.Revision = e.Revision()
	return &v, nil
}

// Versions lists a service's versions, oldest first.
func (r *Registry) Versions(ctx context.Context, svc string) ([]*Version, error) {
	keys, err := r.keys(ctx, versionPrefix(svc))
	if err != nil {
		return nil, err
	}
	var out []*Version
	for _, k := range keys {
		e, err := r.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // removed while listing
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", k, err)
		}
		v, err := decodeVersion(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out, nil
}

// ResolveVersion finds a service's version by full ID or unique prefix.
func (r *Registry) ResolveVersion(ctx context.Context, svc, idPrefix string) (*Version, error) {
	if idPrefix == "" {
		return nil, fmt.Errorf("empty version id")
	}
	vs, err := r.Versions(ctx, svc)
	if err != nil {
		return nil, err
	}
	var found *Version
	for _, v := range vs {
		if strings.HasPrefix(v.ID, idPrefix) {
			if found != nil {
				return nil, fmt.Errorf("version prefix %q of service %s is ambiguous (%s, %s)", idPrefix, svc, found.ID, v.ID)
			}
			found = v
		}
	}
	if found == nil {
		return nil, fmt.Errorf("version %s of service %s: %w", idPrefix, svc, ErrNotFound)
	}
	return found, nil
}

// Code reads a version's code and checks it against its digest.
func (r *Registry) Code(ctx context.Context, v *Version) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	code, err := r.obj.GetBytes(ctx, codeObject(v.Service, v.ID))
	if err != nil {
		return nil, fmt.Errorf("read code of %s@%s: %w", v.Service, v.ID, err)
	}
	sum := sha256.Sum256(code)
	if hex.EncodeToString(sum[:]) != v.CodeDigest {
		return nil, fmt.Errorf("code of %s@%s does not match its digest", v.Service, v.ID)
	}
	return code, nil
}

// Service reads one service record.
func (r *Registry) Service(ctx context.Context, name string) (*Service, error) {
	e, err := r.kv.Get(ctx, serviceKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("service %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read service %s: %w", name, err)
	}
	return decodeService(e)
}

func decodeService(e jetstream.KeyValueEntry) (*Service, error) {
	var s Service
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return nil, fmt.Errorf("decode service record %s: %w", e.Key(), err)
	}
	s.Revision = e.Revision()
	return &s, nil
}

// Services lists every service, by name.
func (r *Registry) Services(ctx context.Context) ([]*Service, error) {
	keys, err := r.keys(ctx, "svc.*")
	if err != nil {
		return nil, err
	}
	var out []*Service
	for _, k := range keys {
		s, err := r.Service(ctx, strings.TrimPrefix(k, "svc."))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (r *Registry) keys(ctx context.Context, filter string) ([]string, error) {
	l, err := r.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list registry keys %s: %w", filter, err)
	}
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

// Activate makes v the active version of its service, claiming v's routes
// and releasing the routes the previous version had that v has not. It
// returns the KV revision of the updated service record. A route already
// claimed by another service makes it fail with a *route.CollisionError
// and change nothing.
func (r *Registry) Activate(ctx context.Context, v *Version) (uint64, error) {
	routes, err := routeKeys(v.Manifest.Routes)
	if err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := r.Service(ctx, v.Service)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return 0, err
		}
		claimed, err := r.claimAll(ctx, v.Service, routes)
		if err != nil {
			return 0, err
		}
		now := r.now().UTC()
		next := &Service{Name: v.Service, Active: v.ID, Routes: routes, Created: now, Updated: now}
		var rev uint64
		if cur == nil {
			rev, err = r.kv.Create(ctx, serviceKey(v.Service), mustJSON(next))
		} else {
			next.Created = cur.Created
			rev, err = r.kv.Update(ctx, serviceKey(v.Service), mustJSON(next), cur.Revision)
		}
		if err != nil {
			r.release(ctx, v.Service, claimed)
			if isConflict(err) && attempt < 8 {
				continue // a concurrent change to this service; read again
			}
			return 0, fmt.Errorf("activate %s@%s: %w", v.Service, v.ID, err)
		}
		if cur != nil {
			r.release(ctx, v.Service, without(cur.Routes, routes))
		}
		return rev, nil
	}
}

// claimAll claims each route for svc; it returns the claims it created (so
// a failed activation can release them) or a collision, having released
// what it created.
func (r *Registry) claimAll(ctx context.Context, svc string, routes []string) ([]string, error) {
	var created []string
	for _, rt := range routes {
		made, err := r.claim(ctx, svc, rt)
		if err != nil {
			r.release(ctx, svc, created)
			return nil, err
		}
		if made {
			created = append(created, rt)
		}
	}
	return created, nil
}

func (r *Registry) claim(ctx context.Context, svc, rt string) (bool, error) {
	key := routeClaimKey(rt)
	val := mustJSON(routeClaim{Service: svc, Route: rt})
	_, err := r.kv.Create(ctx, key, val)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("claim route %q: %w", rt, err)
	}
	e, err := r.kv.Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("read claim of route %q: %w", rt, err)
	}
	var c routeClaim
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return false, fmt.Errorf("decode claim of route %q: %w", rt, err)
	}
	if c.Service == svc {
		return false, nil
	}
	owner, err := r.Service(ctx, c.Service)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	stale := (owner == nil || !slices.Contains(owner.Routes, rt)) && r.now().Sub(e.Created()) > staleClaimAge
	if !stale {
		return false, &route.CollisionError{Route: rt, Owner: svc, Other: c.Service}
	}
	if _, err := r.kv.Update(ctx, key, val, e.Revision()); err != nil {
		if isConflict(err) {
			return false, &route.CollisionError{Route: rt, Owner: svc, Other: c.Service}
		}
		return false, fmt.Errorf("take over stale claim of route %q: %w", rt, err)
	}
	return true, nil
}

// release deletes svc's claims on routes, leaving claims another service
// holds untouched. Errors are ignored: a claim left behind is stale and is
// taken over later.
func (r *Registry) release(ctx context.Context, svc string, routes []string) {
	for _, rt := range routes {
		key := routeClaimKey(rt)
		e, err := r.kv.Get(ctx, key)
		if err != nil {
			continue
		}
		var c routeClaim
		if json.Unmarshal(e.Value(), &c) != nil || c.Service != svc {
			continue
		}
		_ = r.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
	}
}

// Remove deletes a service: its record (so it stops taking traffic), its
// route claims, its versions and their code.
func (r *Registry) Remove(ctx context.Context, name string) error {
	cur, err := r.Service(ctx, name)
	if err != nil {
		return err
	}
	if err := r.kv.Delete(ctx, serviceKey(name), jetstream.LastRevision(cur.Revision)); err != nil {
		if isConflict(err) {
			return fmt.Errorf("remove %s: it changed while being removed; try again", name)
		}
		return fmt.Errorf("remove %s: %w", name, err)
	}
	r.release(ctx, name, cur.Routes)
	keys, err := r.keys(ctx, versionPrefix(name))
	if err != nil {
		return err
	}
	for _, k := range keys {
		id := k[strings.LastIndexByte(k, '.')+1:]
		if err := r.obj.Delete(ctx, codeObject(name, id)); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return fmt.Errorf("delete code of %s@%s: %w", name, id, err)
		}
		if err := r.kv.Purge(ctx, k); err != nil {
			return fmt.Errorf("delete version %s@%s: %w", name, id, err)
		}
	}
	return nil
}

func routeKeys(routes []string) ([]string, error) {
	out := make([]string, 0, len(routes))
	for _, s := range routes {
		p, err := route.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Key())
	}
	return out, nil
}

func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

func mustJSON(v any) []byte {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		panic(fmt.Sprintf("registry: encode record: %v", err))
	}
	return bytes.TrimSpace(b.Bytes())
}
