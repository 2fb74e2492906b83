package wasm

import (
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"

	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-run/wisp/internal/binding"
)

// Host functions added to ABI v1 for what the Workers APIs have and the
// first functions lacked (docs/abi.md): the env's names, KV metadata on
// get, and object bodies streamed in both directions, so a guest never
// holds a large object whole.

// maxStreams bounds the streams one instance has open at once.
const maxStreams = 16

// stream is an object body open across host calls: the body of a got
// object (object_open), or the writing end of a streamed put
// (object_put_stream), whose goroutine stores what is written.
type stream struct {
	body io.ReadCloser // reading
	pw   *io.PipeWriter
	res  chan putResult // writing: the put's outcome
}

type putResult struct {
	info *binding.ObjectInfo
	err  error
}

var errStreamClosed = errors.New("the stream was closed before it was finished")

// addStream registers s and returns its handle (> 0).
func (r *reactor) addStream(s *stream) int32 {
	if r.streams == nil {
		r.streams = map[int32]*stream{}
	}
	for {
		r.nextStream++
		if r.nextStream <= 0 {
			r.nextStream = 1
		}
		if r.streams[r.nextStream] == nil {
			break
		}
	}
	r.streams[r.nextStream] = s
	return r.nextStream
}

// close ends s: a read stream's body is closed, a put that was not
// finished is aborted (nothing is stored) and waited for.
func (s *stream) close() {
	if s.body != nil {
		_ = s.body.Close()
		return
	}
	s.pw.CloseWithError(errStreamClosed)
	<-s.res
}

// closeStreams closes every stream the guest left open; it runs when a
// call into the guest ends, so no stream outlives its request.
func (r *reactor) closeStreams() {
	for h, s := range r.streams {
		s.close()
		delete(r.streams, h)
	}
}

func (r *reactor) streamOf(op string, h uint32, writing bool) (*stream, int32) {
	s := r.streams[int32(h)]
	switch {
	case s == nil:
		return nil, r.fail(codeBadInput, "%s: %d is not an open stream", op, int32(h))
	case writing && s.pw == nil:
		return nil, r.fail(codeBadInput, "%s: stream %d is an object being read, not written", op, h)
	case !writing && s.body == nil:
		return nil, r.fail(codeBadInput, "%s: stream %d is an object being written, not read", op, h)
	}
	return s, codeOK
}

// envList lists the env's names: a string list of kind and name pairs,
// by name.
func (r *reactor) envList(m api.Module, p []uint32) int32 {
	view(m, p[0], p[1], "result buffer")
	e := r.mod.spec.Env
	if e == nil {
		return r.give(m, appendList(nil), p[0], p[1])
	}
	type entry struct{ kind, name string }
	var es []entry
	add := func(kind string, names []string) {
		for _, n := range names {
			es = append(es, entry{kind, n})
		}
	}
	add("var", keys(e.Vars))
	add("secret", keys(e.Secrets))
	add("kv", keys(e.KV))
	add("bucket", keys(e.Buckets))
	add("service", keys(e.Services))
	add("queue", keys(e.Queues))
	sort.SliceStable(es, func(i, j int) bool { return es[i].name < es[j].name })
	ss := make([]string, 0, 2*len(es))
	for _, x := range es {
		ss = append(ss, x.kind, x.name)
	}
	return r.give(m, appendList(nil, ss...), p[0], p[1])
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

type kvEntryJSON struct {
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Expiration int64           `json:"expiration,omitempty"`
}

// kvGetWithMetadata is kv_get with the entry's metadata and expiration: a
// string list of one string (their JSON) followed by the value.
func (r *reactor) kvGetWithMetadata(m api.Module, p []uint32) int32 {
	kv, name := r.kv(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	view(m, p[4], p[5], "result buffer")
	if kv == nil {
		return r.fail(codeNoBinding, "kv_get_with_metadata: no KV namespace is bound as %q", name)
	}
	e, err := kv.Get(r.ctx, key)
	if err != nil {
		return r.fail(codeFailed, "kv_get_with_metadata %s %q: %v", name, key, err)
	}
	if e == nil {
		return codeAbsent
	}
	head, err := json.Marshal(kvEntryJSON{Metadata: e.Metadata, Expiration: e.Expiration})
	if err != nil {
		return r.fail(codeFailed, "kv_get_with_metadata %s %q: encode metadata: %v", name, key, err)
	}
	return r.give(m, append(appendList(nil, string(head)), e.Value...), p[4], p[5])
}

// objectOpen is object_get without the body: the info JSON carries the
// handle of a stream ("stream") that stream_read reads the body from.
func (r *reactor) objectOpen(m api.Module, p []uint32) int32 {
	if len(r.streams) >= maxStreams {
		return r.fail(codeState, "object_open: %d streams are open, the most allowed; close one with stream_close", maxStreams)
	}
	obj, rc := r.getObject(m, p, "object_open")
	if obj == nil {
		return rc
	}
	info := objectInfo(obj)
	info.Stream = r.addStream(&stream{body: obj.Body})
	return r.giveJSON(m, info, p[6], p[7])
}

// objectPutStream starts a streamed put: what stream_write writes is
// stored as it comes, stream_finish ends it and returns the info JSON.
func (r *reactor) objectPutStream(m api.Module, p []uint32) int32 {
	b, name := r.bucket(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	var o objectPutOpts
	if err := decodeOpts(m, p[4], p[5], &o); err != nil {
		return r.fail(codeBadInput, "object_put_stream: %v", err)
	}
	if b == nil {
		return r.fail(codeNoBinding, "object_put_stream: no bucket is bound as %q", name)
	}
	if len(r.streams) >= maxStreams {
		return r.fail(codeState, "object_put_stream: %d streams are open, the most allowed; finish or close one", maxStreams)
	}
	ctx := r.ctx
	pr, pw := io.Pipe()
	s := &stream{pw: pw, res: make(chan putResult, 1)}
	go func() {
		info, err := b.Put(ctx, key, pr, o.binding())
		pr.CloseWithError(errors.Join(err, errors.New("the put has ended")))
		s.res <- putResult{info, err}
	}()
	return r.addStream(s)
}

func (r *reactor) streamWrite(m api.Module, p []uint32) int32 {
	data := view(m, p[1], p[2], "data")
	s, rc := r.streamOf("stream_write", p[0], true)
	if s == nil {
		return rc
	}
	if _, err := s.pw.Write(data); err != nil {
		delete(r.streams, int32(p[0]))
		res := <-s.res
		if res.err != nil {
			err = res.err
		}
		return r.fail(codeFailed, "stream_write: %v", err)
	}
	return codeOK
}

func (r *reactor) streamFinish(m api.Module, p []uint32) int32 {
	view(m, p[1], p[2], "result buffer")
	s, rc := r.streamOf("stream_finish", p[0], true)
	if s == nil {
		return rc
	}
	delete(r.streams, int32(p[0]))
	_ = s.pw.Close()
	res := <-s.res
	if res.err != nil {
		return r.fail(codeFailed, "stream_finish: %v", res.err)
	}
	return r.giveJSON(m, infoJSON(res.info), p[1], p[2])
}

func (r *reactor) streamRead(m api.Module, p []uint32) int32 {
	out := view(m, p[1], p[2], "read buffer")
	s, rc := r.streamOf("stream_read", p[0], false)
	if s == nil {
		return rc
	}
	if len(out) == 0 {
		return r.fail(codeBadInput, "stream_read: the buffer is empty (0 means the end of the stream)")
	}
	out = out[:min(len(out), maxResultBytes)]
	for {
		n, err := s.body.Read(out)
		if n > 0 {
			return int32(n)
		}
		if err == io.EOF {
			return 0
		}
		if err != nil {
			return r.fail(codeFailed, "stream_read %d: %v", p[0], err)
		}
	}
}

func (r *reactor) streamClose(m api.Module, p []uint32) int32 {
	s := r.streams[int32(p[0])]
	if s == nil {
		return r.fail(codeBadInput, "stream_close: %s is not an open stream", strconv.Itoa(int(int32(p[0]))))
	}
	delete(r.streams, int32(p[0]))
	s.close()
	return codeOK
}
