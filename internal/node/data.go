package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/secrets"
	"github.com/wisp-run/wisp/internal/registry"
)

var _ api.Data = (*Node)(nil)

// KV returns the namespace that a service's active version binds as
// bindingName: what `wisp kv` reads and writes.
func (n *Node) KV(ctx context.Context, service, bindingName string) (binding.KV, error) {
	s, err := n.reg.Service(ctx, service)
	if err != nil {
		return nil, err
	}
	v, err := n.reg.Version(ctx, service, s.Active)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, b := range v.Manifest.KVNamespaces {
		if b.Binding == bindingName {
			return kvNamespace(n.data.kv, service, b)
		}
		names = append(names, b.Binding)
	}
	if len(names) == 0 {
		return nil, api.NotFound(fmt.Sprintf("service %s has no KV bindings ([[kv_namespaces]] in its wisp.toml)", service))
	}
	return nil, api.NotFound(fmt.Sprintf("service %s has no KV binding %s (it has %s)", service, bindingName, strings.Join(names, ", ")))
}

// PutSecret seals and stores a secret, then waits until this node serves
// the service with it (every node reloads it: the registry carries the
// change).
func (n *Node) PutSecret(ctx context.Context, service, name, value string) (*api.SecretResult, error) {
	rev, err := n.data.secrets.Put(ctx, service, name, value)
	if err != nil {
		return nil, err
	}
	res := &api.SecretResult{Service: service, Name: name, Status: "set"}
	if err := n.reloadForSecrets(ctx, service, rev); err != nil {
		return nil, err
	}
	s, err := n.reg.Service(ctx, service)
	if errors.Is(err, registry.ErrNotFound) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("service %s does not exist yet; it will see the secret once deployed", service))
		return res, nil
	}
	if err != nil {
		return res, nil
	}
	if v, err := n.reg.Version(ctx, service, s.Active); err == nil {
		if w := n.bindingWarnings(ctx, v.Manifest); len(w) > 0 {
			for _, msg := range w {
				if strings.HasPrefix(msg, "secret "+name+" ") {
					res.Warnings = append(res.Warnings, msg)
				}
			}
		}
	}
	return res, nil
}

// DeleteSecret removes a secret and waits until this node serves the
// service without it.
func (n *Node) DeleteSecret(ctx context.Context, service, name string) error {
	rev, err := n.data.secrets.Delete(ctx, service, name)
	if errors.Is(err, secrets.ErrNotFound) {
		return api.NotFound(err.Error())
	}
	if err != nil {
		return err
	}
	return n.reloadForSecrets(ctx, service, rev)
}

func (n *Node) reloadForSecrets(ctx context.Context, service string, rev uint64) error {
	regRev, err := n.reg.TouchSecrets(ctx, service, rev)
	if err != nil || regRev == 0 {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	return n.waitApplied(wctx, regRev)
}

// Secrets lists a service's secrets by name.
func (n *Node) Secrets(ctx context.Context, service string) ([]api.SecretInfo, error) {
	list, err := n.data.secrets.List(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]api.SecretInfo, 0, len(list))
	for _, s := range list {
		out = append(out, api.SecretInfo{Name: s.Name, Updated: s.Updated})
	}
	return out, nil
}
