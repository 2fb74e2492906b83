package project

import "sort"

// InBindingOrder returns svcs ordered so that a service comes after the
// services its [[services]] bindings call, when they are in the same
// project: deploying in this order, no binding names a service that does
// not exist yet. Among services free to go, the first by folder goes
// first; when only services waiting on one another are left (a cycle of
// bindings), the first of them by folder goes.
func InBindingOrder(svcs []*Service) []*Service {
	byName := map[string]*Service{}
	for _, s := range svcs {
		byName[s.Manifest.Name] = s
	}
	waits := map[*Service]int{}          // bound services in the project not yet placed
	callers := map[*Service][]*Service{} // who waits for a service
	for _, s := range svcs {
		seen := map[string]bool{}
		for _, b := range s.Manifest.Services {
			t := byName[b.Service]
			if t == nil || t == s || seen[b.Service] {
				continue
			}
			seen[b.Service] = true
			waits[s]++
			callers[t] = append(callers[t], s)
		}
	}
	out := make([]*Service, 0, len(svcs))
	placed := map[*Service]bool{}
	for len(out) < len(svcs) {
		var ready []*Service
		for _, s := range svcs {
			if !placed[s] && waits[s] == 0 {
				ready = append(ready, s)
			}
		}
		if len(ready) == 0 { // a cycle: take the first waiting service
			for _, s := range svcs {
				if !placed[s] {
					ready = []*Service{s}
					break
				}
			}
		}
		sort.SliceStable(ready, func(i, j int) bool { return ready[i].Dir < ready[j].Dir })
		s := ready[0]
		placed[s] = true
		out = append(out, s)
		for _, c := range callers[s] {
			waits[c]--
		}
	}
	return out
}
