package observe

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestInvocationMetrics: the counts an invocation makes are gathered as
// the documented series: the duration histogram's buckets cumulative and
// its sum exact; two Services of one version (a version loaded twice)
// count into the same series, which stay until the last is closed; the
// service's own series outlive its versions.
func TestInvocationMetrics(t *testing.T) {
	o, err := New(Config{NoTracing: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := o.Service("svc", "v1", 128), o.Service("svc", "v1", 128)
	run := func(s *Service, d time.Duration, status int) {
		start := time.Now()
		ctx, inv := s.BeginAt(context.Background(), HTTP, "GET", "r", start)
		s.Adopt(ctx, nil) // the pool's part, as when it runs the invocation
		inv.Start(nil, false)
		inv.Stop(nil)
		inv.EndHTTP(status, 3, 5, start.Add(d))
	}
	// The caller's end is in the future (the guest stopped for real
	// just now), so it ends each invocation.
	run(a, 400*time.Millisecond, 200) // bucket ≤ 0.5s
	run(b, 3*time.Second, 200)        // ≤ 5s
	run(a, 2*time.Minute, 503)        // ≤ 300s
	fams := gather(t, o)
	h := one(t, fams, "wisp_invocation_duration_seconds").GetHistogram()
	if h.GetSampleCount() != 3 {
		t.Fatalf("histogram count %d, want 3", h.GetSampleCount())
	}
	if want := (400*time.Millisecond + 3*time.Second + 2*time.Minute).Seconds(); h.GetSampleSum() < want-1e-9 || h.GetSampleSum() > want+1e-9 {
		t.Fatalf("histogram sum %v, want %v", h.GetSampleSum(), want)
	}
	for _, bk := range h.GetBucket() {
		var want uint64
		switch ub := bk.GetUpperBound(); {
		case ub >= 300:
			want = 3
		case ub >= 5:
			want = 2
		case ub >= .5:
			want = 1
		}
		if bk.GetCumulativeCount() != want {
			t.Fatalf("bucket ≤%v has %d, want %d", bk.GetUpperBound(), bk.GetCumulativeCount(), want)
		}
	}
	if v := one(t, fams, "wisp_invocations_total").GetCounter().GetValue(); v != 3 {
		t.Fatalf("wisp_invocations_total %v, want 3 (one series for both Services of v1)", v)
	}
	a.Close()
	a.Close() // twice is harmless
	if got := len(gather(t, o)["wisp_invocations_total"]); got != 1 {
		t.Fatalf("%d invocation series after closing one of two Services, want 1", got)
	}
	b.Close()
	fams = gather(t, o)
	if got := len(fams["wisp_invocations_total"]); got != 0 {
		t.Fatalf("%d invocation series after closing the version, want 0", got)
	}
	for name, want := range map[string]float64{"wisp_http_request_bytes_total": 9, "wisp_http_response_bytes_total": 15, "wisp_egress_bytes_total": 15} {
		if v := one(t, fams, name).GetCounter().GetValue(); v != want {
			t.Fatalf("%s %v after the version went, want %v", name, v, want)
		}
	}
	if got := len(fams["wisp_http_responses_total"]); got != 2 {
		t.Fatalf("%d response series (2xx, 5xx), want 2", got)
	}
}

func gather(t *testing.T, o *Observer) map[string][]*dto.Metric {
	t.Helper()
	mfs, err := o.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string][]*dto.Metric{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

func one(t *testing.T, fams map[string][]*dto.Metric, name string) *dto.Metric {
	t.Helper()
	if len(fams[name]) != 1 {
		t.Fatalf("%d series of %s, want 1", len(fams[name]), name)
	}
	return fams[name][0]
}
