package js

import (
	"github.com/dop251/goja"
)

// addBindings puts the version's bindings (other than vars) on env, with
// the Cloudflare Workers signatures. Secrets are plain strings, as on
// Workers.
func (in *instance) addBindings(env *goja.Object) error {
	for name, v := range in.mod.spec.Env.Secrets {
		if err := env.Set(name, v); err != nil {
			return err
		}
	}
	return nil
}
