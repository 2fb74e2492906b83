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
//
// Route claims and the service record are separate keys, so a claim can
// only be released when no service record can come to list it. The rules
// that make this safe, also with concurrent deploys of the same service:
//   - an activation writes every claim it relies on (creating it, or
//     rewriting its own), after reading the service record it will
//     compare-and-set; so the claim's revision is newer than that record;
//   - a claim is deleted only with a compare-and-set on a revision older
//     than a record (the latest, or its deletion) that does not list the
//     route, or on the revision the failing activation itself created
//     and nobody has written since.
//
// Either way an activation that relies on the claim has written it after
// the deleter's revision, so the delete fails, or the delete comes first
// and that activation's write of the claim fails and it starts over.
// KV revisions are sequence numbers of one stream, so revisions of
// different keys compare.
func (r *Registry) Activate(ctx context.Context, v *Version) (uint64, error) {
	routes, err := routeKeys(v.Manifest.Routes)
	if err != nil {
		return 0, err
	}
	// Claims this call created (or took over) and nobody else has written
	// since, by route: the ones to delete if it fails.
	mine := map[string]uint64{}
	for attempt := 1; ; attempt++ {
		rev, cur, err := r.activateOnce(ctx, v, routes, mine)
		if err == nil {
			if cur != nil {
				r.release(ctx, v.Service, without(cur.Routes, routes), rev)
			}
			return rev, nil
		}
		raced := errors.Is(err, errRaced) || isConflict(err)
		if raced && attempt < maxAttempts {
			continue // a concurrent change to this service or a claim: read again
		}
		r.abandon(ctx, v.Service, routes, mine)
		var ce *route.CollisionError
		switch {
		case errors.As(err, &ce):
			return 0, err
		case raced:
			return 0, fmt.Errorf("activate %s@%s: the service kept changing concurrently; try again: %w", v.Service, v.ID, err)
		}
		return 0, fmt.Errorf("activate %s@%s: %w", v.Service, v.ID, err)
	}
}

// maxAttempts bounds how often Activate starts over after losing a race.
const maxAttempts = 8

// errRaced means a route claim changed under a concurrent write.
var errRaced = errors.New("route claim changed concurrently")

// activateOnce reads the service record, claims routes and writes the new
// record with a compare-and-set on the one it read, which it returns.
func (r *Registry) activateOnce(ctx context.Context, v *Version, routes []string, mine map[string]uint64) (uint64, *Service, error) {
	cur, err := r.Service(ctx, v.Service)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, nil, err
	}
	// Claim in one order everywhere: of two deploys wanting the same
	// routes, one wins them all.
	for _, rt := range slices.Sorted(slices.Values(routes)) {
		if err := r.claim(ctx, v.Service, rt, mine); err != nil {
			return 0, nil, err
		}
	}
	now := r.now().UTC()
	next := &Service{Name: v.Service, Active: v.ID, Routes: routes, Created: now, Updated: now}
	var rev uint64
	if cur == nil {
		rev, err = r.kv.Create(ctx, serviceKey(v.Service), mustJSON(next))
	} else {
		next.Created, next.SecretsRev = cur.Created, cur.SecretsRev
		rev, err = r.kv.Update(ctx, serviceKey(v.Service), mustJSON(next), cur.Revision)
	}
	return rev, cur, err
}

// claim writes svc's claim on rt: it creates it, rewrites svc's own claim
// (so its revision and age are fresh), or takes over a stale claim of
// another service. It records in mine the claims only this activation has
// written.
func (r *Registry) claim(ctx context.Context, svc, rt string, mine map[string]uint64) error {
	key := routeClaimKey(rt)
	val := mustJSON(routeClaim{Service: svc, Route: rt})
	for range maxAttempts {
		e, err := r.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			rev, err := r.kv.Create(ctx, key, val)
			if isConflict(err) {
				continue // claimed meanwhile: read it
			}
			if err != nil {
				return fmt.Errorf("claim route %q: %w", rt, err)
			}
			mine[rt] = rev
			return nil
		}
		if err != nil {
			return fmt.Errorf("read claim of route %q: %w", rt, err)
		}
		var c routeClaim
		if err := json.Unmarshal(e.Value(), &c); err != nil {
			return fmt.Errorf("decode claim of route %q: %w", rt, err)
		}
		if c.Service != svc {
			stale, err := r.stale(ctx, e, c.Service, rt)
			if err != nil {
				return err
			}
			if !stale {
				return &route.CollisionError{Route: rt, Owner: svc, Other: c.Service}
			}
		}
		rev, err := r.kv.Update(ctx, key, val, e.Revision())
		if isConflict(err) {
			continue // written or released meanwhile: read it again
		}
		if err != nil {
			return fmt.Errorf("claim route %q: %w", rt, err)
		}
		if c.Service != svc || mine[rt] == e.Revision() {
			mine[rt] = rev
		} else {
			delete(mine, rt) // another deploy of svc may rely on it
		}
		return nil
	}
	return fmt.Errorf("claim route %q: %w", rt, errRaced)
}

// stale reports whether another service's claim may be taken over: it is
// old and its owner's record does not list it (a deploy that crashed
// between claiming and activating left it behind).
func (r *Registry) stale(ctx context.Context, e jetstream.KeyValueEntry, owner, rt string) (bool, error) {
	if r.now().Sub(e.Created()) <= staleClaimAge {
		return false, nil
	}
	s, err := r.Service(ctx, owner)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !slices.Contains(s.Routes, rt), nil
}

// release deletes svc's claims on routes that were last written before
// bound. The caller knows that svc's record in effect from bound on (the
// one it just wrote or read, or the deletion that follows bound) lists
// none of routes; a deploy that lists one again writes its claim after
// reading that record, so after bound, and such a claim is kept. Claims
// of another service are left alone too. Errors are ignored: a claim left
// behind goes stale and is taken over later.
func (r *Registry) release(ctx context.Context, svc string, routes []string, bound uint64) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, rt := range routes {
		key := routeClaimKey(rt)
		e, err := r.kv.Get(ctx, key)
		if err != nil || e.Revision() >= bound {
			continue
		}
		var c routeClaim
		if json.Unmarshal(e.Value(), &c) != nil || c.Service != svc {
			continue
		}
		_ = r.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
	}
}

// abandon cleans up after a failed activation of svc: it deletes the
// claims the activation created unless they were written since, then
// releases, by the rule of release, those of routes the service's current
// record does not list. Errors are ignored, as in release.
func (r *Registry) abandon(ctx context.Context, svc string, routes []string, mine map[string]uint64) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	for rt, rev := range mine {
		_ = r.kv.Delete(ctx, routeClaimKey(rt), jetstream.LastRevision(rev))
	}
	if cur, err := r.Service(ctx, svc); err == nil {
		r.release(ctx, svc, without(routes, cur.Routes), cur.Revision)
	}
}

// cleanupContext lets clean-up finish when the caller's context has ended
// (a canceled deploy must not leave claims behind).
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
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
	// From the deletion on, no record lists cur's routes: claims written
	// before it go (also those a failed deploy rewrote after cur).
	r.release(ctx, name, cur.Routes, r.deletedAt(ctx, serviceKey(name), cur.Revision))
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

// deletedAt is the revision of the delete marker written on key with a
// compare-and-set on after, or after itself when the history has lost it
// (which only makes release keep more claims).
func (r *Registry) deletedAt(ctx context.Context, key string, after uint64) uint64 {
	hist, err := r.kv.History(ctx, key)
	if err != nil {
		return after
	}
	for _, e := range hist {
		if e.Revision() > after {
			if e.Operation() == jetstream.KeyValueDelete {
				return e.Revision()
			}
			break
		}
	}
	return after
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
