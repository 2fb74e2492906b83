// Package poll owns waiting in tests: poll a condition with a deadline
// instead of sleeping and hoping.
package poll

import (
	"testing"
	"time"
)

// CheckFor calls f every interval until it returns nil, and fails the test
// with f's last error when total has passed without success (nats-server's
// checkFor). Use it for anything asynchronous instead of sleeping.
func CheckFor(t testing.TB, total, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(interval)
	}
	t.Fatalf("condition not met after %v: %v", total, err)
}
