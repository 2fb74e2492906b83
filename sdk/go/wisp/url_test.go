package wisp

import (
	"net/url"
	"reflect"
	"testing"
)

var urlSeeds = []string{
	"http://svc.test/", "http://svc.test/a/b?x=1&y=2", "https://h:8080/p?", "http://h/a%20b?q=%41",
	"http://h/a#frag", "http://h?x", "http://user@h/p", "http://[::1]:80/p", "HTTP://h/p", "http://h/a;b/c?d=e?f",
	"http://h//double", "http://h/./a/../b", "ftp://h/x", "http:/nohost", "http://h",
}

func TestParseURL(t *testing.T) {
	for _, s := range urlSeeds {
		checkURL(t, s)
	}
}

// FuzzParseURL: the fast path gives exactly what url.Parse gives.
func FuzzParseURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(checkURL)
}

func checkURL(t *testing.T, s string) {
	want, wantErr := url.Parse(s)
	got, err := parseURL(s)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q: error %v, url.Parse says %v", s, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", s, got, want)
	}
}

func TestRequestURI(t *testing.T) {
	for _, s := range urlSeeds {
		checkRequestURI(t, s)
	}
}

// FuzzRequestURI: parseRequestURL's request URI is u.RequestURI().
func FuzzRequestURI(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(checkRequestURI)
}

func checkRequestURI(t *testing.T, s string) {
	u, uri, err := parseRequestURL(new(url.URL), s)
	if err != nil {
		return
	}
	if want := u.RequestURI(); uri != want {
		t.Fatalf("%q: request URI %q, u.RequestURI() %q", s, uri, want)
	}
}
