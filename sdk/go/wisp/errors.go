package wisp

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when a key, object, var or secret does not exist.
var ErrNotFound = errors.New("wisp: not found")

// ErrUnavailable is returned by bindings outside of a wisp node (when the
// program is not running as wasip1 under wisp).
var ErrUnavailable = errors.New("wisp: bindings are only available when running under wisp (GOOS=wasip1)")

// Codes of Error, as the ABI returns them (docs/abi.md).
const (
	CodeNoBinding = -2 // no binding of that name and kind
	CodeBadInput  = -3 // an argument is malformed
	CodeFailed    = -4 // the operation failed
	CodeDenied    = -5 // the service may not do this
	CodeTooLarge  = -6 // over a size limit
	CodeState     = -7 // not valid now
)

// Error is a failed binding call.
type Error struct {
	Op      string // the host function, e.g. "kv_get"
	Code    int    // one of the Code constants
	Message string // what the host said
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("wisp: %s failed with code %d", e.Op, e.Code)
	}
	return "wisp: " + e.Message
}
