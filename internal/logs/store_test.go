package logs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

func openStore(t *testing.T) *logs.Store {
	t.Helper()
	st := storetest.Open(t)
	s, err := logs.OpenStore(context.Background(), st.JS, logs.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func entry(svc string, lvl logs.Level, msg string, at time.Time) logs.Entry {
	return logs.Entry{Time: at, Service: svc, Version: "v1", RequestID: "r", Level: lvl, Message: msg}
}

func readAll(t *testing.T, s *logs.Store, q logs.Query) []string {
	t.Helper()
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Read(ctx, q, func(e logs.Entry) error {
		got = append(got, string(e.Level)+":"+e.Message)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestStoreReadFiltersByServiceTimeAndLevel(t *testing.T) {
	s := openStore(t)
	now := time.Now()
	s.Write(entry("a", logs.Info, "old", now.Add(-time.Hour)))
	s.Write(entry("a", logs.Debug, "d", now))
	s.Write(entry("a", logs.Info, "i", now))
	s.Write(entry("b", logs.Error, "other service", now))
	s.Write(entry("a", logs.Error, "e", now))
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if got := readAll(t, s, logs.Query{Service: "a", Since: now.Add(-2 * time.Hour)}); len(got) != 4 {
			return fmt.Errorf("stored so far: %v", got)
		}
		return nil
	})
	tests := []struct {
		name string
		q    logs.Query
		want string
	}{
		{"recent", logs.Query{Service: "a", Since: now.Add(-time.Minute)}, "[debug:d info:i error:e]"},
		{"all", logs.Query{Service: "a", Since: now.Add(-2 * time.Hour)}, "[info:old debug:d info:i error:e]"},
		{"warn and up", logs.Query{Service: "a", Since: now.Add(-time.Minute), MinLevel: logs.Warn}, "[error:e]"},
		{"other service", logs.Query{Service: "b", Since: now.Add(-time.Minute)}, "[error:other service]"},
		{"nothing", logs.Query{Service: "c", Since: now.Add(-time.Minute)}, "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(readAll(t, s, tc.q)); got != tc.want && !(tc.want == "[]" && got == "[]") {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStoreFollowSeesNewEntriesQuickly(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []logs.Entry
	done := make(chan error, 1)
	since := time.Now()
	go func() {
		done <- s.Read(ctx, logs.Query{Service: "svc", Since: since, Follow: true}, func(e logs.Entry) error {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
			return nil
		})
	}()
	written := time.Now()
	s.Write(entry("svc", logs.Info, "hello", written))
	poll.CheckFor(t, time.Second, 10*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || got[0].Message != "hello" {
			return fmt.Errorf("followed so far: %v", got)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v", err)
	}
}

func TestStoreAccountsForEveryEntry(t *testing.T) {
	s := openStore(t)
	const n = 50000
	start := time.Now()
	for i := range n {
		s.Write(entry("busy", logs.Info, fmt.Sprint(i), start))
	}
	s.Close() // flushes what is queued
	stored := len(readAll(t, s, logs.Query{Service: "busy", Since: start}))
	if stored+int(s.Dropped()) != n || stored == 0 {
		t.Fatalf("stored %d + dropped %d != written %d", stored, s.Dropped(), n)
	}
}

// TestStoreManyServicesInOneFlush: one flush holding the entries of many
// services stores each service's, in order.
func TestStoreManyServicesInOneFlush(t *testing.T) {
	s := openStore(t)
	const services, each = 300, 3
	start := time.Now()
	for i := range each {
		for svc := range services {
			s.Write(entry(fmt.Sprintf("svc%03d", svc), logs.Info, fmt.Sprint(i), start))
		}
	}
	s.Close()
	if s.Dropped() != 0 {
		t.Fatalf("%d entries dropped", s.Dropped())
	}
	for svc := range services {
		got := readAll(t, s, logs.Query{Service: fmt.Sprintf("svc%03d", svc), Since: start})
		if fmt.Sprint(got) != "[info:0 info:1 info:2]" {
			t.Fatalf("svc%03d: %v", svc, got)
		}
	}
}
