package logs

import (
	"sync"
	"sync/atomic"
	"time"
)

// Level of a log entry. console.log and console.info are Info.
type Level string

// Levels, lowest first.
const (
	Debug Level = "debug"
	Info  Level = "info"
	Warn  Level = "warn"
	Error Level = "error"
)

// Kinds of entry.
const (
	KindLog     = ""        // a line the service wrote
	KindRequest = "request" // the platform's summary of one invocation
)

// Entry is one line a service wrote, or the summary of one invocation.
type Entry struct {
	Time      time.Time `json:"time"`
	Service   string    `json:"service"`
	Version   string    `json:"version"`
	RequestID string    `json:"request_id,omitempty"`
	TraceID   string    `json:"trace_id,omitempty"` // the W3C trace id (32 hex digits) when traced
	Level     Level     `json:"level"`
	Kind      string    `json:"kind,omitempty"`
	Message   string    `json:"message"`
}

// Sink receives entries. Write must not block on slow readers.
type Sink interface {
	Write(Entry)
}

// Discard is a Sink that drops everything.
var Discard Sink = discard{}

type discard struct{}

func (discard) Write(Entry) {}

// Hub fans entries out to subscribers. A subscriber that does not keep up
// loses entries rather than slowing the service; the loss is counted.
type Hub struct {
	mu      sync.RWMutex
	subs    map[*sub]struct{}
	dropped atomic.Uint64
}

type sub struct {
	ch     chan Entry
	filter func(Entry) bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*sub]struct{}{}} }

// Write delivers e to every subscriber whose filter accepts it.
func (h *Hub) Write(e Entry) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			h.dropped.Add(1)
		}
	}
}

// Subscribe returns a channel of entries accepted by filter (nil accepts
// all) and a function that ends the subscription and closes the channel.
func (h *Hub) Subscribe(filter func(Entry) bool, buffer int) (<-chan Entry, func()) {
	s := &sub{ch: make(chan Entry, max(buffer, 1)), filter: filter}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.ch)
		})
	}
}

// Dropped is how many entries slow subscribers missed.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }
