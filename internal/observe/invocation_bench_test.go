package observe

import (
	"context"
	"testing"
	"time"
)

// BenchmarkInvocation is what observing one HTTP invocation costs, as the
// gateway and a pool do it (Begin, Start, Stop, EndHTTP), with metrics and
// usage only and with every invocation traced; -cpu 1,2 shows what
// invocations on two cores at once cost each other:
//
//	go test ./internal/observe -run XXX -bench Invocation -cpu 1,2
func BenchmarkInvocation(b *testing.B) {
	for _, v := range []struct {
		name string
		cfg  Config
	}{{"metrics-usage", Config{NoTracing: true}}, {"metrics-usage-traces", Config{}}} {
		b.Run(v.name, func(b *testing.B) {
			o, err := New(v.cfg)
			if err != nil {
				b.Fatal(err)
			}
			s := o.Service("hello", "v1", 128)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, inv := s.BeginAt(context.Background(), HTTP, "GET", "req-1", time.Now())
					inv.SetHTTP("GET", "/hello")
					s.Adopt(ctx, nil)
					inv.Start(nil, false)
					inv.Stop(nil)
					inv.EndHTTP(200, 0, 13, time.Now())
				}
			})
		})
	}
}
