package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

// summary reports an object as the JS guest does (R2Object's fields).
// include lists the metadata a list() asked for; nil means all.
func summary(i *wisp.ObjectInfo, include []string) map[string]any {
	s := map[string]any{
		"key": i.Key, "size": i.Size, "etag": i.ETag, "httpEtag": `"` + i.ETag + `"`, "version": i.Version,
		"uploaded": i.Uploaded.UnixMilli(), "md5": i.ETag,
	}
	written := map[string]string{}
	if include == nil || slices.Contains(include, "httpMetadata") {
		hm := map[string]any{}
		if i.ContentType != "" {
			hm["contentType"] = i.ContentType
		}
		if h := i.HTTPMetadata; h != nil {
			for k, v := range map[string]string{"contentLanguage": h.ContentLanguage, "contentDisposition": h.ContentDisposition, "contentEncoding": h.ContentEncoding, "cacheControl": h.CacheControl} {
				if v != "" {
					hm[k] = v
				}
			}
			if !h.CacheExpiry.IsZero() {
				hm["cacheExpiry"] = h.CacheExpiry.UnixMilli()
			}
		}
		s["httpMetadata"] = hm
		h := http.Header{}
		i.WriteHeaders(h)
		for k, vs := range h {
			written[strings.ToLower(k)] = strings.Join(vs, ", ")
		}
	}
	if include == nil || slices.Contains(include, "customMetadata") {
		cm := map[string]string{}
		for k, v := range i.CustomMetadata {
			cm[k] = v
		}
		s["customMetadata"] = cm
	}
	if i.Range != nil {
		s["range"] = map[string]int64{"offset": i.Range.Offset, "length": i.Range.Length}
	}
	s["written"] = written
	return s
}

func unsupported(op, what string) error {
	return fmt.Errorf("%s: %s is not supported by wisp buckets yet", op, what)
}

// objPutOptions translates R2 put()'s options.
func objPutOptions(m msg) (*wisp.ObjectPutOptions, error) {
	o := m.obj("options")
	if _, ok := o["onlyIf"]; ok {
		return nil, unsupported("put", "onlyIf")
	}
	for _, alg := range []string{"sha1", "sha256", "sha384", "sha512"} {
		if _, ok := o[alg]; ok {
			return nil, unsupported("put", "the "+alg+" checksum")
		}
	}
	opts := &wisp.ObjectPutOptions{}
	hm := o.obj("httpMetadata")
	opts.ContentType = hm.str("contentType")
	h := &wisp.HTTPMetadata{ContentLanguage: hm.str("contentLanguage"), ContentDisposition: hm.str("contentDisposition"),
		ContentEncoding: hm.str("contentEncoding"), CacheControl: hm.str("cacheControl")}
	if hm.has("cacheExpiry") {
		if ms, ok := hm.num("cacheExpiry"); ok {
			h.CacheExpiry = time.UnixMilli(ms).UTC()
		} else if t, err := time.Parse(time.RFC3339, hm.str("cacheExpiry")); err == nil {
			h.CacheExpiry = t
		}
	}
	if *h != (wisp.HTTPMetadata{}) {
		opts.HTTPMetadata = h
	}
	if o.has("customMetadata") {
		cm := o.obj("customMetadata")
		opts.CustomMetadata = map[string]string{}
		for k := range cm {
			opts.CustomMetadata[k] = cm.raw(k) // String(v), as R2 stores it
		}
	}
	if o.has("md5") {
		opts.MD5 = strings.ToLower(o.str("md5"))
	}
	return opts, nil
}

// objGetOptions translates R2 get()'s options.
func objGetOptions(m msg) (*wisp.ObjectGetOptions, error) {
	o := m.obj("options")
	if _, ok := o["onlyIf"]; ok {
		return nil, unsupported("get", "onlyIf")
	}
	opts := &wisp.ObjectGetOptions{}
	if !o.has("range") {
		return opts, nil
	}
	rg := o.obj("range")
	notSatisfiable := errors.New("get: The requested range is not satisfiable (10039)")
	if rg.has("suffix") {
		n, ok := rg.num("suffix")
		if !ok || n <= 0 {
			return nil, notSatisfiable
		}
		opts.Suffix = n
		return opts, nil
	}
	opts.Offset, _ = rg.num("offset")
	if rg.has("length") {
		n, ok := rg.num("length")
		if !ok || n <= 0 {
			return nil, notSatisfiable
		}
		opts.Length = n
	}
	return opts, nil
}

// fill makes chunk k of a generated object (64 KiB chunks): every byte is
// (k * 7 + 1) & 255, as in the JS guest.
func fill(b []byte, k int) {
	for i := range b {
		b[i] = byte(k*7 + 1)
	}
}

func init() {
	ops["obj.put"] = func(r *http.Request, m msg) (any, error) {
		opts, err := objPutOptions(m)
		if err != nil {
			return nil, err
		}
		var body []byte
		if !m.has("null") {
			body = value(m)
		}
		i, err := wisp.Bucket{Binding: m.str("binding")}.Put(r.Context(), m.str("key"), body, opts)
		if err != nil {
			return nil, err
		}
		return summary(i, nil), nil
	}
	ops["obj.get"] = func(r *http.Request, m msg) (any, error) {
		opts, err := objGetOptions(m)
		if err != nil {
			return nil, err
		}
		b := wisp.Bucket{Binding: m.str("binding")}
		var info *wisp.ObjectInfo
		var body []byte
		if m.str("as") == "stream" {
			o, err := b.Open(r.Context(), m.str("key"), opts)
			if errors.Is(err, wisp.ErrNotFound) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			defer o.Close()
			if body, err = io.ReadAll(o); err != nil {
				return nil, err
			}
			info = &o.Info
		} else {
			info, body, err = b.Get(r.Context(), m.str("key"), opts)
			if errors.Is(err, wisp.ErrNotFound) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
		}
		s := summary(info, nil)
		switch m.str("as") {
		case "stream", "hex":
			s["body"] = map[string]string{"hex": hex.EncodeToString(body)}
		default:
			s["body"] = string(body)
		}
		return s, nil
	}
	ops["obj.head"] = func(r *http.Request, m msg) (any, error) {
		i, err := wisp.Bucket{Binding: m.str("binding")}.Head(r.Context(), m.str("key"))
		if errors.Is(err, wisp.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return summary(i, nil), nil
	}
	ops["obj.delete"] = func(r *http.Request, m msg) (any, error) {
		var keys []string
		if json.Unmarshal(m["keys"], &keys) != nil {
			keys = []string{m.str("keys")}
		}
		return true, wisp.Bucket{Binding: m.str("binding")}.Delete(r.Context(), keys...)
	}
	ops["obj.list"] = func(r *http.Request, m msg) (any, error) {
		o := m.obj("options")
		opts := &wisp.ObjectListOptions{Prefix: o.str("prefix"), Cursor: o.str("cursor"), Delimiter: o.str("delimiter"), StartAfter: o.str("startAfter")}
		if o.has("limit") {
			// 0 is "no limit" to the SDK; a limit over 1000 is the host's to refuse.
			n, ok := o.num("limit")
			if !ok || n < 1 {
				return nil, errors.New("list: MaxKeys params must be positive integer <= 1000. (10022)")
			}
			opts.Limit = int(n)
		}
		include := []string{}
		_ = json.Unmarshal(o["include"], &include)
		l, err := wisp.Bucket{Binding: m.str("binding")}.List(r.Context(), opts)
		if err != nil {
			return nil, err
		}
		objs := []any{}
		for i := range l.Objects {
			objs = append(objs, summary(&l.Objects[i], include))
		}
		prefixes := l.DelimitedPrefixes
		if prefixes == nil {
			prefixes = []string{}
		}
		out := map[string]any{"objects": objs, "truncated": l.Truncated, "delimitedPrefixes": prefixes}
		if l.Truncated {
			out["cursor"] = l.Cursor
		}
		return out, nil
	}
	// putGenerated streams m.size generated bytes into the bucket.
	ops["obj.putGenerated"] = func(r *http.Request, m msg) (any, error) {
		size, _ := m.num("size")
		w, err := wisp.Bucket{Binding: m.str("binding")}.PutStream(r.Context(), m.str("key"), nil)
		if err != nil {
			return nil, err
		}
		chunk := make([]byte, 64<<10)
		for k := 0; int64(k)*int64(len(chunk)) < size; k++ {
			n := min(int64(len(chunk)), size-int64(k)*int64(len(chunk)))
			fill(chunk[:n], k)
			if _, err := w.Write(chunk[:n]); err != nil {
				w.Abort()
				return nil, err
			}
		}
		i, err := w.Finish()
		if err != nil {
			return nil, err
		}
		return summary(i, nil), nil
	}
	// readCount reads an object through its body stream, never whole.
	ops["obj.readCount"] = func(r *http.Request, m msg) (any, error) {
		o, err := wisp.Bucket{Binding: m.str("binding")}.Open(r.Context(), m.str("key"), nil)
		if err != nil {
			return nil, err
		}
		defer o.Close()
		n, sample := 0, 0
		buf := make([]byte, 64<<10)
		for {
			got, err := o.Read(buf)
			v := buf[:got]
			for i := (4096 - n%4096) % 4096; i < len(v); i += 4096 {
				sample = (sample + int(v[i])) % 1000003
			}
			n += got
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		return map[string]any{"bytes": n, "sample": sample, "via": "stream"}, nil
	}
}
