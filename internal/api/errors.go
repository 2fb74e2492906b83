package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/registry"
	"github.com/wisp-run/wisp/internal/route"
)

// Error is an error with an HTTP status and a stable code.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Error codes clients can rely on.
const (
	CodeBadRequest    = "bad_request"
	CodeUnauthorized  = "unauthorized"
	CodeNotFound      = "not_found"
	CodeInvalid       = "invalid_manifest"
	CodeRouteConflict = "route_conflict"
	CodeLoadFailed    = "load_failed"
	CodeUnsupported   = "not_supported"
	CodeTooLarge      = "too_large"
	CodeInternal      = "internal"
	CodeUnavailable   = "unavailable"
)

// BadRequest is a malformed call.
func BadRequest(msg string) *Error { return &Error{http.StatusBadRequest, CodeBadRequest, msg} }

// NotFound names what does not exist.
func NotFound(msg string) *Error { return &Error{http.StatusNotFound, CodeNotFound, msg} }

// LoadFailed is a version whose code does not load or instantiate.
func LoadFailed(msg string) *Error {
	return &Error{http.StatusUnprocessableEntity, CodeLoadFailed, msg}
}

// Unsupported is a manifest feature this node does not implement yet.
func Unsupported(msg string) *Error {
	return &Error{http.StatusUnprocessableEntity, CodeUnsupported, msg}
}

// Unavailable is a node not ready to take the call.
func Unavailable(msg string) *Error {
	return &Error{http.StatusServiceUnavailable, CodeUnavailable, msg}
}

// toError classifies any error into an *Error.
func toError(err error) *Error {
	var ae *Error
	var me *manifest.Error
	var ce *route.CollisionError
	var be *bundle.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &me):
		return &Error{http.StatusBadRequest, CodeInvalid, me.Error()}
	case errors.As(err, &ce):
		return &Error{http.StatusConflict, CodeRouteConflict, ce.Error()}
	case errors.As(err, &be):
		return &Error{http.StatusBadRequest, CodeBadRequest, be.Error()}
	case errors.Is(err, registry.ErrNotFound):
		return NotFound(err.Error())
	}
	return &Error{http.StatusInternalServerError, CodeInternal, err.Error()}
}

// writeError is the one place errors become responses.
func writeError(w http.ResponseWriter, err error) {
	e := toError(err)
	writeJSON(w, e.Status, ErrorBody{Error: ErrorDetail{Code: e.Code, Message: e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
