package wasm

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/runtime"
)

// maxLogLine bounds one log entry; longer lines are split.
const maxLogLine = 16 << 10

// logWriter turns what a guest writes to stdout or stderr into log
// entries, one per line, tagged with the request being served.
type logWriter struct {
	spec  *runtime.Spec
	level logs.Level

	mu    sync.Mutex
	reqID string
	ctx   context.Context // the invocation's, for the trace id; nil between requests
	buf   []byte
}

func newLogWriter(spec *runtime.Spec, level logs.Level) *logWriter {
	return &logWriter{spec: spec, level: level}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			for len(w.buf) >= maxLogLine {
				w.emit(w.buf[:maxLogLine])
				w.buf = w.buf[maxLogLine:]
			}
			break
		}
		line := p[:i]
		if len(w.buf) > 0 {
			line = append(w.buf, line...)
			w.buf = w.buf[:0]
		}
		for len(line) > maxLogLine {
			w.emit(line[:maxLogLine])
			line = line[maxLogLine:]
		}
		w.emit(line)
		p = p[i+1:]
	}
	return n, nil
}

// start tags later lines with a request id and the trace of ctx; flush
// ends a request.
func (w *logWriter) start(ctx context.Context, reqID string) {
	w.mu.Lock()
	w.reqID, w.ctx = reqID, ctx
	w.mu.Unlock()
}

// flush writes a partial last line and clears the request id.
func (w *logWriter) flush() {
	w.mu.Lock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	w.reqID, w.ctx = "", nil
	w.mu.Unlock()
}

func (w *logWriter) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	writeLog(w.ctx, w.spec, w.reqID, w.level, string(line))
}

// writeLog writes one entry for the request reqID of ctx's invocation
// (ctx may be nil outside one).
func writeLog(ctx context.Context, spec *runtime.Spec, reqID string, level logs.Level, msg string) {
	if spec.Logs == nil {
		return
	}
	traceID := ""
	if ctx != nil {
		traceID = observe.TraceID(ctx)
	}
	spec.Logs.Write(logs.Entry{Time: time.Now(), Service: spec.Service, Version: spec.Version, RequestID: reqID, TraceID: traceID, Level: level, Message: msg})
}
