package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The load generator's client reads every kind of answer the targets give
// and keeps the connection in step: a request after each one still gets
// its own answer.
func TestConnReadsAnswers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.Header().Set("X-Wisp-Request-Id", "id-"+r.URL.Path)
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, strings.Repeat("x", 40000))
	})
	mux.HandleFunc("/agent", func(w http.ResponseWriter, r *http.Request) {
		if r.UserAgent() != "wisp-bench" || r.URL.RawQuery != "q=1" {
			http.Error(w, "bad request line or headers", 400)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c, err := newConn(srv.URL + "/length")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	c.keep = []byte("x-wisp-request-id:")
	deadline := time.Now().Add(10 * time.Second)
	for _, tc := range []struct {
		path    string
		wantErr string
	}{
		{"/length", ""}, {"/chunked", ""}, {"/empty", ""}, {"/missing", "status 404"},
		{"/length", ""}, {"/close", ""}, {"/agent?q=1", ""}, {"/chunked", ""},
	} {
		next, err := newConn(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		c.req = next.req
		err = c.get(deadline)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
			t.Fatalf("GET %s: error %v, want %q", tc.path, err, tc.wantErr)
		}
		if id := string(c.kept); (tc.path == "/length") != (id == "id-/length") {
			t.Fatalf("GET %s: kept header %q", tc.path, id)
		}
	}
}

func TestConnRejects(t *testing.T) {
	if _, err := newConn("https://127.0.0.1:1/"); err == nil || !strings.Contains(err.Error(), "only http") {
		t.Fatalf("https URL: %v", err)
	}
	c, err := newConn("http://127.0.0.1:1/")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.get(time.Now().Add(time.Second)); err == nil {
		t.Fatal("no error from a closed port")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(nc).ReadString('\n')
			io.WriteString(nc, "SSH-2.0-not-http\r\n\r\n")
			nc.Close()
		}
	}()
	c, err = newConn("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.get(time.Now().Add(5 * time.Second)); !errors.Is(err, errMalformed) {
		t.Fatalf("not HTTP: %v, want %v", err, errMalformed)
	}
	if c.c != nil {
		t.Fatal("connection kept after a malformed answer")
	}
}
