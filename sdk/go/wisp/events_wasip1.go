//go:build wasip1

package wisp

import (
	"context"
	"os"
	"strconv"
	"time"
	"unsafe"
)

//go:wasmimport wisp queue_batch
//go:noescape
func hQueueBatch(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp queue_ack
func hQueueAck(index int32) int32

//go:wasmimport wisp queue_retry
func hQueueRetry(index, delaySeconds int32) int32

//go:wasmimport wisp queue_ack_all
func hQueueAckAll() int32

//go:wasmimport wisp queue_retry_all
func hQueueRetryAll(delaySeconds int32) int32

//go:wasmimport wisp scheduled_info
//go:noescape
func hScheduledInfo(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp scheduled_no_retry
func hScheduledNoRetry() int32

// wisp_handles tells the host which events this service registered.
//
//go:wasmexport wisp_handles
func handlesExport() int32 {
	var bits int32
	if handler != nil {
		bits |= 1
	}
	if queueHandler != nil {
		bits |= 2
	}
	if scheduledHandler != nil {
		bits |= 4
	}
	return bits
}

//go:wasmexport wisp_queue
func queueExport() int32 {
	if queueHandler == nil {
		os.Stderr.WriteString("wisp: a queue batch arrived but main did not call wisp.HandleQueue\n")
		return 2
	}
	b, err := readBatch()
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	if err := queueHandler(context.Background(), b); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	return 0
}

func readBatch() (*Batch, error) {
	raw, err := result("queue_batch", hQueueBatch)
	if err != nil {
		return nil, err
	}
	ss, err := viewList(raw)
	if err != nil || len(ss) < 1 || (len(ss)-1)%5 != 0 {
		return nil, &Error{Op: "queue_batch", Code: CodeFailed, Message: "queue_batch: malformed batch"}
	}
	b := &Batch{Queue: ss[0], Messages: make([]*Message, 0, (len(ss)-1)/5)}
	for i := 1; i < len(ss); i += 5 {
		ms, _ := strconv.ParseInt(ss[i+1], 10, 64)
		attempts, _ := strconv.Atoi(ss[i+2])
		b.Messages = append(b.Messages, &Message{
			ID: ss[i], Timestamp: time.UnixMilli(ms).UTC(), Attempts: attempts, ContentType: ss[i+3],
			Body: []byte(ss[i+4]), index: (i - 1) / 5,
		})
	}
	return b, nil
}

//go:wasmexport wisp_scheduled
func scheduledExport() int32 {
	if scheduledHandler == nil {
		os.Stderr.WriteString("wisp: a cron tick arrived but main did not call wisp.HandleScheduled\n")
		return 2
	}
	raw, err := result("scheduled_info", hScheduledInfo)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	ss, err := viewList(raw)
	if err != nil || len(ss) != 2 {
		os.Stderr.WriteString("wisp: scheduled_info: malformed tick\n")
		return 1
	}
	ms, _ := strconv.ParseInt(ss[1], 10, 64)
	c := &Controller{Cron: ss[0], ScheduledTime: time.UnixMilli(ms).UTC()}
	if err := scheduledHandler(context.Background(), c); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	return 0
}

// servesEvents reports whether main registered an event handler, so that
// a service that only consumes a queue or runs crons need not call Serve.
func servesEvents() bool { return queueHandler != nil || scheduledHandler != nil }
