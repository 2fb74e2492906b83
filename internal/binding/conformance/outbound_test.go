package conformance

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOutboundFetch: fetch() reaches only allowed_hosts, never a private
// or metadata address even when listed (the node allows loopback only, so
// the suite can serve the allowed requests itself). Refused addresses are
// refused before any connection is tried: no traffic leaves loopback.
func TestOutboundFetch(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		io.WriteString(w, "hello from outside")
	}))
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1000)
	}))
	defer other.Close()

	forEachRunner(t, func(t *testing.T, s *suite) {
		s.deploy("fetcher", fmt.Sprintf("[outbound]\nallowed_hosts = [%q, \"http://10.255.255.1\", \"http://169.254.169.254\", \"http://[fd00:ec2::254]\"]\n", srv.URL))
		s.deploy("closed", "")
		v, errMsg := s.rpc("fetcher", m{"op": "fetch", "url": srv.URL + "/ok"})
		s.skipIfMissing(errMsg, "fetch", "issue #3")
		if errMsg != "" || asMap(t, v)["body"] != "hello from outside" {
			t.Fatalf("allowed fetch: %v %s", v, errMsg)
		}
		for _, tc := range []struct {
			service, url, expectedErr string
		}{
			{"closed", srv.URL, "has no [outbound] allowed_hosts"},
			{"fetcher", other.URL, "is not in the service's [outbound] allowed_hosts"},
			{"fetcher", "http://10.255.255.1/", "10.255.255.1 is a private address"},
			{"fetcher", "http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata address"},
			{"fetcher", "http://[fd00:ec2::254]/", "is a private address"},
			{"fetcher", srv.URL + "/redirect?to=" + other.URL, "is not in the service's [outbound] allowed_hosts"},
			{"fetcher", srv.URL + "/redirect?to=http://169.254.169.254/", "cloud metadata address"},
		} {
			before := hits.Load()
			s.fails(tc.service, m{"op": "fetch", "url": tc.url}, tc.expectedErr)
			if got := hits.Load() - before; got >= 1000 || (got > 0 && !strings.Contains(tc.url, "/redirect")) {
				t.Fatalf("%s: a refused fetch reached a server", tc.url)
			}
		}
	})
}
