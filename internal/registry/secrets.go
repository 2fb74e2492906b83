package registry

import (
	"context"
	"errors"
	"fmt"
)

// TouchSecrets records that service name's secrets changed at secrets
// revision rev, so that every node reloads the active version with them
// (the registry watch carries the change like a deploy). It returns the
// registry revision to wait for, or 0 when there is nothing to reload:
// the service does not exist (its first deploy reads the secrets) or a
// later change is already recorded.
func (r *Registry) TouchSecrets(ctx context.Context, name string, rev uint64) (uint64, error) {
	for attempt := 1; ; attempt++ {
		cur, err := r.Service(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if cur.SecretsRev >= rev {
			return 0, nil
		}
		next := *cur
		next.SecretsRev = rev
		next.Updated = r.now().UTC()
		wrote, err := r.kv.Update(ctx, serviceKey(name), mustJSON(&next), cur.Revision)
		if err == nil {
			return wrote, nil
		}
		if !isConflict(err) || attempt >= maxAttempts {
			return 0, fmt.Errorf("record the secret change of %s: %w", name, err)
		}
	}
}
