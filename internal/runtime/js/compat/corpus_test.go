package compat

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// The corpus: every folder of workers/ is one worker with its sources, a
// cases.json (the requests to send, and the worker's vars) and an
// expected.json (what workerd answered, written by TestRecord).

type caseFile struct {
	Main     string         `json:"main"` // entry, relative to the folder
	Vars     map[string]any `json:"vars"`
	Requests []caseRequest  `json:"requests"`
}

type caseRequest struct {
	Name       string            `json:"name"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	BodyBase64 string            `json:"body_base64"`
	// Error marks a request the worker fails on purpose: workerd and wisp
	// each write their own error page, so only the status is compared.
	Error bool `json:"error"`
}

type expectedFile struct {
	Workerd   string             `json:"workerd"` // version that recorded it
	Responses []recordedResponse `json:"responses"`
}

type recordedResponse struct {
	Name       string              `json:"name"`
	Status     int                 `json:"status"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body,omitempty"`
	BodyBase64 string              `json:"body_base64,omitempty"`
}

type worker struct {
	name  string // folder name
	dir   string
	cases caseFile
}

// host is the authority every request is sent with: both runtimes build
// request.url from it.
const host = "compat.example"

func loadCorpus(t *testing.T) []worker {
	t.Helper()
	entries, err := os.ReadDir("workers")
	if err != nil {
		t.Fatal(err)
	}
	var out []worker
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		w := worker{name: e.Name(), dir: filepath.Join("workers", e.Name())}
		b, err := os.ReadFile(filepath.Join(w.dir, "cases.json"))
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if err := json.Unmarshal(b, &w.cases); err != nil {
			t.Fatalf("%s/cases.json: %v", w.name, err)
		}
		if w.cases.Main == "" {
			w.cases.Main = "index.js"
		}
		for i, r := range w.cases.Requests {
			if r.Name == "" || r.Path == "" {
				t.Fatalf("%s/cases.json: request %d needs a name and a path", w.name, i)
			}
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (r caseRequest) body() ([]byte, error) {
	if r.BodyBase64 != "" {
		return base64.StdEncoding.DecodeString(r.BodyBase64)
	}
	return []byte(r.Body), nil
}

// send makes the request with client (whose transport dials the runtime).
func (r caseRequest) send(ctx context.Context, client *http.Client) (*recordedResponse, error) {
	body, err := r.body()
	if err != nil {
		return nil, err
	}
	method := r.Method
	if method == "" {
		method = "GET"
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+host+r.Path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "wisp-compat")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	rr := &recordedResponse{Name: r.Name, Status: resp.StatusCode, Headers: map[string][]string{}}
	for k, vs := range resp.Header {
		lk := strings.ToLower(k)
		if ignoredHeader(lk) {
			continue
		}
		rr.Headers[lk] = vs
	}
	if utf8.Valid(data) {
		rr.Body = string(data)
	} else {
		rr.BodyBase64 = base64.StdEncoding.EncodeToString(data)
	}
	return rr, nil
}

// ignoredHeader: set by each server for itself, not by the worker.
func ignoredHeader(name string) bool {
	switch name {
	case "date", "server", "connection", "keep-alive", "transfer-encoding", "content-length", "x-wisp-request-id", "x-content-type-options":
		return true
	}
	return strings.HasPrefix(name, "cf-")
}

// diff compares a response with the recorded one.
func diff(got, want *recordedResponse, statusOnly bool) string {
	var b strings.Builder
	if got.Status != want.Status {
		fmt.Fprintf(&b, "status %d, workerd %d\n", got.Status, want.Status)
	}
	if statusOnly {
		return b.String()
	}
	names := map[string]bool{}
	for k := range got.Headers {
		names[k] = true
	}
	for k := range want.Headers {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, w := strings.Join(got.Headers[k], " | "), strings.Join(want.Headers[k], " | ")
		if g != w {
			fmt.Fprintf(&b, "header %s: %q, workerd %q\n", k, g, w)
		}
	}
	if got.Body != want.Body || got.BodyBase64 != want.BodyBase64 {
		fmt.Fprintf(&b, "body:\n  wisp:    %q\n  workerd: %q\n", got.Body+got.BodyBase64, want.Body+want.BodyBase64)
	}
	return b.String()
}
