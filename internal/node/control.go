package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/registry"
)

var _ api.Control = (*Node)(nil)

// supported lists the manifest features this node implements; a deploy
// using any other is refused with "not supported yet".
var supported = map[string]bool{
	"wasm":                   true,
	"kv_namespaces":          true,
	"buckets":                true,
	"services":               true,
	"outbound.allowed_hosts": true,
	"queues.producers":       true,
	"queues.consumers":       true,
	"triggers.crons":         true,
}

// applyTimeout bounds how long an admin call waits for its registry change
// to take effect on this node.
const applyTimeout = 30 * time.Second

// Deploy validates, loads, stores and activates a new version. Nothing is
// stored or changed unless the version loads and its routes are free.
func (n *Node) Deploy(ctx context.Context, req api.DeployRequest) (*api.DeployResult, error) {
	m, err := manifest.Parse(req.ManifestPath, req.Manifest)
	if err != nil {
		return nil, err
	}
	if m.Name != req.Service {
		return nil, api.BadRequest(fmt.Sprintf("%s: name: %q does not match the service being deployed (%q)", req.ManifestPath, m.Name, req.Service))
	}
	if err := checkSupported(req.ManifestPath, m); err != nil {
		return nil, err
	}
	if _, ok := n.engines[m.Kind()]; !ok {
		return nil, api.Unsupported(fmt.Sprintf("%s: %s services are not supported yet", req.ManifestPath, m.Kind()))
	}
	v := registry.NewVersion(m, string(req.Manifest), req.Code)
	cur, err := n.reg.Service(ctx, m.Name)
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		return nil, err
	}
	res := &api.DeployResult{Service: m.Name, Version: v.ID, Status: api.StatusDeployed, Routes: nonNil(m.Routes)}
	res.Warnings = n.bindingWarnings(ctx, m)
	if cur != nil {
		res.Previous = cur.Active
		if cur.Active == v.ID {
			res.Status = api.StatusUnchanged
			res.Previous = ""
			return res, nil
		}
	}
	if err := n.activate(ctx, v, req.Code); err != nil {
		return nil, err
	}
	return res, nil
}

// activate loads v (so a version that does not load never takes traffic),
// stores it, points its service at it and waits until this node serves it.
func (n *Node) activate(ctx context.Context, v *registry.Version, code []byte) error {
	if err := n.checkTriggers(v.Service, v.Manifest); err != nil {
		return err
	}
	secretsRev := n.secretsRev(ctx, v.Service) // read before the load reads the secrets
	svc, err := n.load(ctx, v, code, true)
	if err == nil {
		err = checkHandlers(ctx, svc)
		if err != nil {
			svc.Pool.Close()
		}
	}
	if err != nil {
		return api.LoadFailed(fmt.Sprintf("version %s of %s failed to load: %v", v.ID, v.Service, err))
	}
	svc.SecretsRev = secretsRev
	n.stashPreloaded(svc)
	if _, err := n.reg.PutVersion(ctx, v, code); err != nil {
		n.dropPreloaded(v.Service, v.ID)
		return err
	}
	rev, err := n.reg.Activate(ctx, v)
	if err != nil {
		n.dropPreloaded(v.Service, v.ID)
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	return n.waitApplied(wctx, rev)
}

func checkSupported(file string, m *manifest.Manifest) error {
	var missing []string
	for _, f := range m.Features() {
		if !supported[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return api.Unsupported(fmt.Sprintf("%s: %s: not supported yet by this version of wisp", file, strings.Join(missing, ", ")))
}

// Rollback points a service back at an older version: the one given (full
// ID or unique prefix), or else the one deployed before the active one.
func (n *Node) Rollback(ctx context.Context, name, version string) (*api.DeployResult, error) {
	cur, err := n.reg.Service(ctx, name)
	if err != nil {
		return nil, err
	}
	var target *registry.Version
	if version != "" {
		if target, err = n.reg.ResolveVersion(ctx, name, version); err != nil {
			return nil, err
		}
	} else {
		vs, err := n.reg.Versions(ctx, name)
		if err != nil {
			return nil, err
		}
		for i, v := range vs {
			if v.ID == cur.Active {
				if i == 0 {
					return nil, api.BadRequest(fmt.Sprintf("service %s has no version older than %s to roll back to", name, cur.Active))
				}
				target = vs[i-1]
			}
		}
		if target == nil {
			return nil, fmt.Errorf("active version %s of %s is missing from its version list", cur.Active, name)
		}
	}
	res := &api.DeployResult{Service: name, Version: target.ID, Previous: cur.Active, Status: api.StatusRolledBack, Routes: nonNil(target.Manifest.Routes)}
	if target.ID == cur.Active {
		res.Status, res.Previous = api.StatusUnchanged, ""
		return res, nil
	}
	code, err := n.reg.Code(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := n.activate(ctx, target, code); err != nil {
		return nil, err
	}
	return res, nil
}

// Remove deletes a service and waits until this node no longer serves it.
func (n *Node) Remove(ctx context.Context, name string) error {
	if err := n.reg.Remove(ctx, name); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	return n.waitFor(wctx, func() bool { return n.services[name] == nil })
}

// Services lists every service in the registry.
func (n *Node) Services(ctx context.Context) ([]api.ServiceInfo, error) {
	list, err := n.reg.Services(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.ServiceInfo, 0, len(list))
	for _, s := range list {
		info, err := n.serviceInfo(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, *info)
	}
	return out, nil
}

// Service describes one service.
func (n *Node) Service(ctx context.Context, name string) (*api.ServiceInfo, error) {
	s, err := n.reg.Service(ctx, name)
	if err != nil {
		return nil, err
	}
	return n.serviceInfo(ctx, s)
}

func (n *Node) serviceInfo(ctx context.Context, s *registry.Service) (*api.ServiceInfo, error) {
	vs, err := n.reg.Versions(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	info := &api.ServiceInfo{Name: s.Name, Version: s.Active, Versions: len(vs), Created: s.Created, Updated: s.Updated, Routes: []string{}}
	if svc := n.snap.Load().Services[s.Name]; svc != nil && svc.Version == s.Active {
		info.Pool = poolInfo(svc.Pool.Snapshot())
	}
	for _, v := range vs {
		if v.ID == s.Active {
			info.Kind = v.Kind
			info.Routes = nonNil(v.Manifest.Routes)
			info.NextRun = n.nextRun(v.Manifest)
		}
	}
	return info, nil
}

// Versions lists a service's versions, oldest first.
func (n *Node) Versions(ctx context.Context, name string) ([]api.VersionInfo, error) {
	s, err := n.reg.Service(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := n.reg.Versions(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]api.VersionInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, api.VersionInfo{
			ID: v.ID, Digest: v.Digest, Kind: v.Kind, Routes: nonNil(v.Manifest.Routes),
			CodeSize: v.CodeSize, Created: v.Created, Active: v.ID == s.Active,
		})
	}
	return out, nil
}

// Invoke runs a service for an admin API request, ignoring its routes.
// The query's "method" sets the method the service sees (default GET, or
// POST when there is a body); the admin token is not passed on.
func (n *Node) Invoke(w http.ResponseWriter, r *http.Request, name, path string) error {
	svc := n.snap.Load().Services[name]
	if svc == nil {
		if _, err := n.reg.Service(r.Context(), name); err != nil {
			return err
		}
		return api.Unavailable(fmt.Sprintf("service %s is not loaded on this node (see the node's log)", name))
	}
	method := strings.ToUpper(r.URL.Query().Get("method"))
	if method == "" {
		method = http.MethodGet
		if r.ContentLength != 0 {
			method = http.MethodPost
		}
	}
	inner := r.Clone(r.Context())
	inner.Method = method
	inner.Header.Del("Authorization")
	u, err := r.URL.Parse(path)
	if err != nil {
		return api.BadRequest(fmt.Sprintf("path %q: %v", path, err))
	}
	inner.URL = u
	inner.RequestURI = u.RequestURI()
	n.gw.InvokeAs(w, inner, svc, "http://"+r.Host+u.RequestURI(), observe.Invoke)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
