package observe

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueState is one queue at one moment: what the stream holds (shared
// by every node) and what this node's consumer did (the node converts
// the queue package's figures: this package does not import it).
type QueueState struct {
	Name                                  string
	Messages, Delayed                     uint64
	InFlight                              int
	OldestAge                             time.Duration // of the oldest ready message
	Acked, Retried, DeadLettered, Dropped uint64
}

// WatchQueues exports queues' depth, age and outcomes, read from the
// stream when metrics are scraped (bounded by a few seconds; a failed
// read is logged and leaves the queue series out of that scrape).
func (o *Observer) WatchQueues(queues func(ctx context.Context) ([]QueueState, error)) {
	if o == nil {
		return
	}
	o.reg.MustRegister(&queueCollector{queues: queues, o: o})
}

var (
	ql           = []string{"queue"}
	queueDepth   = prometheus.NewDesc("wisp_queue_messages", "Messages stored on the queue and not yet acknowledged (in flight included, delayed not).", ql, nil)
	queueDelayed = prometheus.NewDesc("wisp_queue_messages_delayed", "Messages waiting for their delivery time (delaySeconds, retries with a delay).", ql, nil)
	queueFlight  = prometheus.NewDesc("wisp_queue_messages_in_flight", "Messages delivered to a consumer and not yet settled.", ql, nil)
	queueAge     = prometheus.NewDesc("wisp_queue_oldest_message_age_seconds", "How long the oldest ready message has waited since it was first sent.", ql, nil)
	queueCounts  = []struct {
		desc *prometheus.Desc
		get  func(QueueState) uint64
	}{
		{prometheus.NewDesc("wisp_queue_messages_acked_total", "Messages this node's consumer acknowledged (handled).", ql, nil), func(q QueueState) uint64 { return q.Acked }},
		{prometheus.NewDesc("wisp_queue_retries_total", "Messages this node's consumer scheduled for another attempt.", ql, nil), func(q QueueState) uint64 { return q.Retried }},
		{prometheus.NewDesc("wisp_queue_dead_letters_total", "Messages this node's consumer moved to the dead-letter queue after their last retry.", ql, nil), func(q QueueState) uint64 { return q.DeadLettered }},
		{prometheus.NewDesc("wisp_queue_dropped_total", "Messages this node's consumer dropped after their last retry (no dead_letter_queue).", ql, nil), func(q QueueState) uint64 { return q.Dropped }},
	}
)

type queueCollector struct {
	queues func(ctx context.Context) ([]QueueState, error)
	o      *Observer
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDepth, queueDelayed, queueFlight, queueAge} {
		ch <- d
	}
	for _, qc := range queueCounts {
		ch <- qc.desc
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	qs, err := c.queues(ctx)
	if err != nil {
		c.o.log.Warn("read queues for metrics", "error", err)
		return
	}
	for _, q := range qs {
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(q.Messages), q.Name)
		ch <- prometheus.MustNewConstMetric(queueDelayed, prometheus.GaugeValue, float64(q.Delayed), q.Name)
		ch <- prometheus.MustNewConstMetric(queueFlight, prometheus.GaugeValue, float64(q.InFlight), q.Name)
		ch <- prometheus.MustNewConstMetric(queueAge, prometheus.GaugeValue, q.OldestAge.Seconds(), q.Name)
		for _, qc := range queueCounts {
			ch <- prometheus.MustNewConstMetric(qc.desc, prometheus.CounterValue, float64(qc.get(q)), q.Name)
		}
	}
}
