package wasm

import (
	"bytes"
	"sync"
	"time"

	"github.com/wisp-run/wisp/internal/logs"
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

// start tags later lines with a request id; flush ends a request.
func (w *logWriter) start(reqID string) {
	w.mu.Lock()
	w.reqID = reqID
	w.mu.Unlock()
}

// flush writes a partial last line and clears the request id.
func (w *logWriter) flush() {
	w.mu.Lock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	w.reqID = ""
	w.mu.Unlock()
}

func (w *logWriter) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	writeLog(w.spec, w.reqID, w.level, string(line))
}

func writeLog(spec *runtime.Spec, reqID string, level logs.Level, msg string) {
	if spec.Logs == nil {
		return
	}
	spec.Logs.Write(logs.Entry{Time: time.Now(), Service: spec.Service, Version: spec.Version, RequestID: reqID, Level: level, Message: msg})
}
