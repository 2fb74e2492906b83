package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/usage"
)

// MaxDeployBytes bounds a deploy upload (manifest and code together).
const MaxDeployBytes = 64 << 20

// Control is what the admin API drives; the node implements it.
type Control interface {
	Deploy(ctx context.Context, req DeployRequest) (*DeployResult, error)
	Rollback(ctx context.Context, service, version string) (*DeployResult, error)
	Remove(ctx context.Context, service string) error
	Services(ctx context.Context) ([]ServiceInfo, error)
	Service(ctx context.Context, name string) (*ServiceInfo, error)
	Versions(ctx context.Context, service string) ([]VersionInfo, error)
	// Invoke runs the service for r, ignoring routes; path is the path
	// (and query) the service sees.
	Invoke(w http.ResponseWriter, r *http.Request, service, path string) error
	// Ready reports whether the registry is loaded and routes are live.
	Ready() bool
	// Logs calls fn for a service's stored log entries matching q.
	Logs(ctx context.Context, q logs.Query, fn func(logs.Entry) error) error
	// Metrics serves /metrics (nil when metrics are off).
	Metrics() http.Handler
	// Trace returns the spans kept of a trace, by trace id or request id.
	Trace(ctx context.Context, id string) (*Trace, error)
	// Traces summarizes recent kept traces, newest first.
	Traces(ctx context.Context, service string, limit int) ([]TraceSummary, error)
	// Usage adds up usage per service and day.
	Usage(ctx context.Context, q usage.Query) (*UsageReport, error)
}

// Handler serves the admin API.
type Handler struct {
	c     Control
	token []byte
	mux   *http.ServeMux
}

// New returns the admin API handler; every /v1 call needs token.
func New(c Control, token string) *Handler {
	h := &Handler{c: c, token: []byte(token), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	h.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !c.Ready() {
			writeError(w, Unavailable("the registry is not loaded yet"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	h.mux.HandleFunc("GET /metrics", h.metrics)
	h.handle("GET /v1/traces", h.listTraces)
	h.handle("GET /v1/traces/{id}", h.getTrace)
	h.handle("GET /v1/usage", h.usage)
	h.handle("GET /v1/services", h.listServices)
	h.handle("GET /v1/services/{name}", h.getService)
	h.handle("DELETE /v1/services/{name}", h.removeService)
	h.handle("GET /v1/services/{name}/versions", h.listVersions)
	h.handle("POST /v1/services/{name}/versions", h.deploy)
	h.handle("POST /v1/services/{name}/rollback", h.rollback)
	h.handle("POST /v1/services/{name}/invoke", h.invoke)
	h.handle("GET /v1/services/{name}/logs", h.logs)
	h.triggerRoutes(c)
	h.routeData(c) // KV and secrets (data.go)
	h.handle("/v1/", func(w http.ResponseWriter, r *http.Request) error {
		return NotFound(fmt.Sprintf("no admin API endpoint %s %s", r.Method, r.URL.Path))
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// handle registers an authenticated handler that returns an error.
func (h *Handler) handle(pattern string, fn func(http.ResponseWriter, *http.Request) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wisp"`)
			writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: ErrorDetail{Code: CodeUnauthorized, Message: "a valid admin token is required (Authorization: Bearer TOKEN)"}})
			return
		}
		if err := fn(w, r); err != nil {
			writeError(w, err)
		}
	})
}

func (h *Handler) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || len(h.token) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), h.token) == 1
}

func validServiceName(s string) bool { return manifest.ValidName(s) }

func serviceName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if !manifest.ValidName(name) {
		return "", BadRequest(fmt.Sprintf("%q is not a valid service name", name))
	}
	return name, nil
}

func (h *Handler) listServices(w http.ResponseWriter, r *http.Request) error {
	list, err := h.c.Services(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []ServiceInfo{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *Handler) getService(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	s, err := h.c.Service(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *Handler) removeService(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	if err := h.c.Remove(r.Context(), name); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"service": name, "status": "removed"})
	return nil
}

func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	vs, err := h.c.Versions(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vs)
	return nil
}

// deploy takes multipart/form-data with a "manifest" file part, a "code"
// file part and optionally a "manifest_path" field naming the manifest in
// errors.
func (h *Handler) deploy(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	req, err := readDeploy(w, r)
	if err != nil {
		return err
	}
	req.Service = name
	res, err := h.c.Deploy(r.Context(), *req)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Status == StatusUnchanged {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
	return nil
}

func readDeploy(w http.ResponseWriter, r *http.Request) (*DeployRequest, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, BadRequest("a deploy is multipart/form-data with a \"manifest\" and a \"code\" part")
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, MaxDeployBytes), params["boundary"])
	req := &DeployRequest{}
	var haveManifest, haveCode bool
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadError(err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, uploadError(err)
		}
		switch p.FormName() {
		case "manifest":
			req.Manifest, haveManifest = data, true
			if req.ManifestPath == "" {
				req.ManifestPath = p.FileName()
			}
		case "code":
			req.Code, haveCode = data, true
		case "manifest_path":
			// The file part's name loses its folders (multipart keeps the
			// base name only); this field keeps the path for error messages.
			req.ManifestPath = string(data)
		default:
			return nil, BadRequest(fmt.Sprintf("unexpected part %q in deploy (want \"manifest\", \"code\" and \"manifest_path\")", p.FormName()))
		}
	}
	if !haveManifest || !haveCode {
		return nil, BadRequest("a deploy needs both a \"manifest\" and a \"code\" part")
	}
	if req.ManifestPath == "" {
		req.ManifestPath = manifest.FileName
	}
	return req, nil
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("deploy is over the limit of %d bytes", MaxDeployBytes)}
	}
	return BadRequest("reading the deploy upload: " + err.Error())
}

func (h *Handler) rollback(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	var req RollbackRequest
	if r.ContentLength != 0 {
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			return BadRequest("rollback body: " + err.Error())
		}
	}
	res, err := h.c.Rollback(r.Context(), name, req.Version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// invoke runs a service directly. Query: path (default "/"), the request
// method and headers are the caller's own.
func (h *Handler) invoke(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	path := r.URL.Query().Get("path")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return BadRequest(fmt.Sprintf("path %q must start with \"/\"", path))
	}
	return h.c.Invoke(w, r, name, path)
}
