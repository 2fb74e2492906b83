package project

import (
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/manifest"
)

func TestInBindingOrder(t *testing.T) {
	svc := func(name string, binds ...string) *Service {
		m := &manifest.Manifest{Name: name}
		for _, b := range binds {
			m.Services = append(m.Services, manifest.ServiceBinding{Binding: strings.ToUpper(b), Service: b})
		}
		return &Service{Dir: "/p/" + name, Manifest: m}
	}
	names := func(svcs []*Service) string {
		var n []string
		for _, s := range svcs {
			n = append(n, s.Manifest.Name)
		}
		return strings.Join(n, " ")
	}
	for _, tc := range []struct {
		in   []*Service
		want string
	}{
		{[]*Service{svc("a"), svc("b"), svc("c")}, "a b c"},
		{[]*Service{svc("cart", "inventory"), svc("inventory"), svc("web")}, "inventory cart web"},
		{[]*Service{svc("a", "b"), svc("b", "c"), svc("c")}, "c b a"},
		{[]*Service{svc("a", "elsewhere", "a"), svc("b")}, "a b"},
		{[]*Service{svc("ping", "pong"), svc("pong", "ping"), svc("z")}, "z ping pong"},
		{[]*Service{svc("x", "y", "y"), svc("y")}, "y x"},
	} {
		if got := names(InBindingOrder(tc.in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", names(tc.in), got, tc.want)
		}
	}
}
