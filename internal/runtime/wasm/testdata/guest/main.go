// Command guest is the wasm package's test module: one endpoint per
// binding and per way a guest can misbehave. Tests build it with the Go
// toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
	"unsafe"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

// rawLog is wisp.log with the pointer exposed, to hand the host bad ones.
//
//go:wasmimport wisp log
func rawLog(level int32, ptr uint32, n uint32) int32

var hog [][]byte

func main() {
	ctx := context.Background()
	kv := wisp.KV{Binding: "STORE"}
	bucket := wisp.Bucket{Binding: "FILES"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /var/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := wisp.Var(r.PathValue("name"))
		fmt.Fprintf(w, "%v %s", ok, v)
	})
	mux.HandleFunc("GET /secret/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := wisp.Secret(r.PathValue("name"))
		fmt.Fprintf(w, "%v %s", ok, v)
	})
	mux.HandleFunc("PUT /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var opts *wisp.KVPutOptions
		if ttl := r.URL.Query().Get("ttl"); ttl != "" {
			n, _ := strconv.Atoi(ttl)
			opts = &wisp.KVPutOptions{ExpirationTTL: int64(n), Metadata: json.RawMessage(`{"by":"guest"}`)}
		}
		report(w, kv.Put(ctx, r.PathValue("key"), b, opts))
	})
	mux.HandleFunc("GET /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, err := kv.Get(ctx, r.PathValue("key"))
		if report(w, err) {
			w.Write(v)
		}
	})
	mux.HandleFunc("DELETE /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		report(w, kv.Delete(ctx, r.PathValue("key")))
	})
	mux.HandleFunc("GET /kv", func(w http.ResponseWriter, r *http.Request) {
		l, err := kv.List(ctx, &wisp.KVListOptions{Prefix: r.URL.Query().Get("prefix")})
		if report(w, err) {
			json.NewEncoder(w).Encode(l)
		}
	})
	mux.HandleFunc("GET /kv-unbound", func(w http.ResponseWriter, r *http.Request) {
		_, err := wisp.KV{Binding: "NOPE"}.Get(ctx, "k")
		report(w, err)
	})
	mux.HandleFunc("PUT /obj/{key}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		info, err := bucket.Put(ctx, r.PathValue("key"), b, &wisp.ObjectPutOptions{ContentType: r.Header.Get("Content-Type"), CustomMetadata: map[string]string{"a": "b"}})
		if report(w, err) {
			json.NewEncoder(w).Encode(info)
		}
	})
	mux.HandleFunc("GET /obj/{key}", func(w http.ResponseWriter, r *http.Request) {
		var opts *wisp.ObjectGetOptions
		if off := r.URL.Query().Get("offset"); off != "" {
			o, _ := strconv.Atoi(off)
			l, _ := strconv.Atoi(r.URL.Query().Get("length"))
			opts = &wisp.ObjectGetOptions{Offset: int64(o), Length: int64(l)}
		}
		info, body, err := bucket.Get(ctx, r.PathValue("key"), opts)
		if report(w, err) {
			w.Header().Set("X-Info", fmt.Sprintf("%s %d %s %v", info.Key, info.Size, info.ContentType, info.CustomMetadata))
			w.Write(body)
		}
	})
	mux.HandleFunc("HEAD /obj/{key}", func(w http.ResponseWriter, r *http.Request) {
		info, err := bucket.Head(ctx, r.PathValue("key"))
		if report(w, err) {
			w.Header().Set("X-Size", strconv.FormatInt(info.Size, 10))
		}
	})
	mux.HandleFunc("DELETE /obj/{key}", func(w http.ResponseWriter, r *http.Request) {
		report(w, bucket.Delete(ctx, r.PathValue("key"), "other"))
	})
	mux.HandleFunc("GET /obj", func(w http.ResponseWriter, r *http.Request) {
		l, err := bucket.List(ctx, &wisp.ObjectListOptions{Prefix: r.URL.Query().Get("prefix")})
		if report(w, err) {
			json.NewEncoder(w).Encode(l)
		}
	})
	mux.HandleFunc("POST /svc/{path...}", func(w http.ResponseWriter, r *http.Request) {
		resp, err := wisp.Service("BACKEND").Post("http://backend/"+r.PathValue("path"), "text/plain", r.Body)
		if report(w, err) {
			defer resp.Body.Close()
			w.Header().Set("X-Backend-Status", resp.Status)
			w.Header().Set("X-Backend-Header", resp.Header.Get("X-From"))
			io.Copy(w, resp.Body)
		}
	})
	mux.HandleFunc("GET /fetch", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(r.URL.Query().Get("url"))
		if report(w, err) {
			defer resp.Body.Close()
			io.Copy(w, resp.Body)
		}
	})
	mux.HandleFunc("POST /queue", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		report(w, wisp.Queue{Binding: "JOBS"}.Send(ctx, b, &wisp.SendOptions{ContentType: "text", DelaySeconds: 2}))
	})
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("to stdout")
		fmt.Fprintln(os.Stderr, "to stderr")
		log.Printf("through log")
		wisp.Log(-4, "a debug line")
		io.WriteString(w, "logged")
	})
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; ; i++ {
			if i < 0 {
				break
			}
		}
	})
	mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Hour)
	})
	mux.HandleFunc("GET /hog", func(w http.ResponseWriter, r *http.Request) {
		for {
			hog = append(hog, make([]byte, 1<<20))
		}
	})
	mux.HandleFunc("GET /exit", func(w http.ResponseWriter, r *http.Request) {
		os.Exit(3)
	})
	mux.HandleFunc("GET /badptr", func(w http.ResponseWriter, r *http.Request) {
		msg := "x"
		rawLog(1, 0xfffffff0, uint32(len(msg)))
		_ = unsafe.StringData(msg)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		w.Write(b)
	})
	mux.HandleFunc("GET /sandbox", func(w http.ResponseWriter, r *http.Request) {
		_, ferr := os.ReadFile("/etc/passwd")
		_, derr := os.ReadDir(".")
		_, nerr := net.Dial("tcp", "127.0.0.1:80")
		fmt.Fprintf(w, "file: %v\ndir: %v\nnet: %v\n", ferr != nil, derr != nil, nerr != nil)
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		counter++
		fmt.Fprint(w, counter)
	})
	wisp.Serve(mux)
}

var counter int

// report writes an error as a status and says whether there was none.
func report(w http.ResponseWriter, err error) bool {
	var we *wisp.Error
	switch {
	case err == nil:
		return true
	case errors.Is(err, wisp.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
	case errors.As(err, &we):
		http.Error(w, fmt.Sprintf("code %d: %s", we.Code, we.Message), http.StatusBadGateway)
	default:
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	return false
}
