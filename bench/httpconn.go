package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// conn is the load generator's HTTP/1.1 client: one keep-alive
// connection sending a request encoded once and reading each answer with
// the least work that still checks it (status 200, the whole body by
// Content-Length or chunks). The suite used net/http's client before; on
// two cores it spent about as much CPU per request as the servers it
// measured, so a server able to use both cores (raw net/http, wisp) was
// held back by the generator while a one-thread server (workerd) was
// not. wrk, the usual tool, is as light as this; `-hold` serves the same
// targets for a cross-check with it.
type conn struct {
	host string
	c    net.Conn
	br   *bufio.Reader
	req  []byte
	dl   time.Time // the deadline set on c
	// keep, when set (lower case, with the colon), names a header whose
	// value the last answer carried is kept in kept.
	keep, kept []byte
}

// newConn prepares a client for GET rawURL (the connection opens on the
// first request).
func newConn(rawURL string) (*conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("load URL %q: %w", rawURL, err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("load URL %q: only http is supported", rawURL)
	}
	c := &conn{host: u.Host}
	c.req = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: wisp-bench\r\n\r\n", u.RequestURI(), u.Host)
	return c, nil
}

// close drops the connection; the next request opens a new one.
func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// get sends the request and reads the whole answer. Any error leaves the
// connection closed. deadline bounds the request (zero: none).
func (c *conn) get(deadline time.Time) error {
	if c.c == nil {
		nc, err := net.Dial("tcp", c.host)
		if err != nil {
			return err
		}
		c.c, c.dl = nc, time.Time{}
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	if !deadline.Equal(c.dl) {
		if err := c.c.SetDeadline(deadline); err != nil {
			c.close()
			return err
		}
		c.dl = deadline
	}
	if _, err := c.c.Write(c.req); err != nil {
		c.close()
		return err
	}
	keep, err := c.read()
	if err != nil || !keep {
		c.close()
	}
	return err
}

var (
	errMalformed = errors.New("malformed HTTP response")
	hdrLength    = []byte("content-length:")
	hdrEncoding  = []byte("transfer-encoding:")
	hdrConn      = []byte("connection:")
)

// read reads one response; keep reports whether the connection may carry
// another.
func (c *conn) read() (keep bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked, keep := int64(-1), false, line[7] == '1'
	c.kept = c.kept[:0]
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(line) <= 2 {
			break
		}
		switch {
		case hasFold(line, hdrLength):
			length, err = strconv.ParseInt(string(bytes.TrimSpace(line[len(hdrLength):])), 10, 64)
			if err != nil || length < 0 {
				return false, fmt.Errorf("%w: %q", errMalformed, line)
			}
		case hasFold(line, hdrEncoding):
			chunked = bytes.Contains(bytes.ToLower(line), []byte("chunked"))
		case hasFold(line, hdrConn):
			if bytes.Contains(bytes.ToLower(line), []byte("close")) {
				keep = false
			}
		case c.keep != nil && hasFold(line, c.keep):
			c.kept = append(c.kept, bytes.TrimSpace(line[len(c.keep):])...)
		}
	}
	switch {
	case chunked:
		err = c.chunks()
	case length >= 0:
		_, err = c.br.Discard(int(length))
	default: // body to the end of the connection
		_, err = io.Copy(io.Discard, c.br)
		keep = false
	}
	if err != nil {
		return false, err
	}
	if status != 200 {
		return keep, fmt.Errorf("status %d", status)
	}
	return keep, nil
}

// chunks discards a chunked body and its trailer.
func (c *conn) chunks() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		hex := bytes.TrimSpace(line)
		if i := bytes.IndexByte(hex, ';'); i >= 0 {
			hex = hex[:i]
		}
		n, err := strconv.ParseInt(string(hex), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			for { // trailer, up to the blank line
				line, err = c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) <= 2 {
					return nil
				}
			}
		}
		if _, err := c.br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// hasFold reports whether line starts with the lower-case prefix, ignoring
// case.
func hasFold(line, prefix []byte) bool {
	return len(line) >= len(prefix) && bytes.EqualFold(line[:len(prefix)], prefix)
}
