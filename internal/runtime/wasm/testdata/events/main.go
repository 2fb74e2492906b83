// Command events is the wasm package's test module for queue batches and
// cron ticks through the Go SDK. Tests build it with the Go toolchain
// (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared).
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

func main() {
	out := wisp.Queue{Binding: "OUT"}
	wisp.HandleQueue(func(ctx context.Context, b *wisp.Batch) error {
		var fail bool
		for _, m := range b.Messages {
			body := string(m.Body)
			fmt.Printf("%s %s attempt %d %s %s\n", b.Queue, m.ID, m.Attempts, m.ContentType, body)
			switch {
			case body == "ack":
				m.Ack()
			case body == "retry":
				m.Retry(7)
				m.Ack() // ignored: the first call counts
			case body == "forward":
				if err := out.Send(ctx, []byte("forwarded "+m.ID), &wisp.SendOptions{ContentType: "text"}); err != nil {
					return err
				}
			case body == "fail":
				fail = true
			case body == "retry-all":
				b.RetryAll(3)
			}
		}
		if fail {
			return errors.New("the batch failed")
		}
		return nil
	})
	wisp.HandleScheduled(func(ctx context.Context, c *wisp.Controller) error {
		fmt.Printf("tick %q %d\n", c.Cron, c.ScheduledTime.Unix())
		switch c.Cron {
		case "0 0 * * *":
			return errors.New("daily job failed")
		case "0 1 * * *":
			c.NoRetry()
			return errors.New("hourly job failed for good")
		}
		return nil
	})
}
