//go:build !wasip1

package wisp

// Outside wasip1 there is no host to deliver batches or ticks.

func hQueueAck(index int32) int32 { return codeUnavailable }

func hQueueRetry(index, delaySeconds int32) int32 { return codeUnavailable }

func hQueueAckAll() int32 { return codeUnavailable }

func hQueueRetryAll(delaySeconds int32) int32 { return codeUnavailable }

func hScheduledNoRetry() int32 { return codeUnavailable }
