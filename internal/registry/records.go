package registry

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/wisp-run/wisp/internal/manifest"
)

// Service is the registry's record of one service.
type Service struct {
	Name    string    `json:"name"`
	Active  string    `json:"active"`           // ID of the version taking traffic
	Routes  []string  `json:"routes,omitempty"` // route keys claimed for the active version
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// SecretsRev is the revision of the service's latest secret change
	// (see TouchSecrets): a node whose loaded version was built with older
	// secrets reloads it.
	SecretsRev uint64 `json:"secrets_rev,omitempty"`

	Revision uint64 `json:"-"` // KV revision of this record
}

// Version is one immutable, content-addressed build of a service.
type Version struct {
	ID         string             `json:"id"` // first 12 hex digits of Digest
	Service    string             `json:"service"`
	Digest     string             `json:"digest"` // sha256 over kind, canonical manifest and code
	Kind       string             `json:"kind"`   // "js" or "wasm"
	Manifest   *manifest.Manifest `json:"manifest"`
	Source     string             `json:"source"` // the wisp.toml text as deployed
	CodeDigest string             `json:"code_digest"`
	CodeSize   int64              `json:"code_size"`
	Created    time.Time          `json:"created"`

	Revision uint64 `json:"-"` // KV revision of the record: versions sort by it
}

// NewVersion computes the content address of a build. It does not store it.
func NewVersion(m *manifest.Manifest, source string, code []byte) *Version {
	cd := sha256.Sum256(code)
	h := sha256.New()
	h.Write([]byte("wisp-version/v1\n" + m.Kind() + "\n"))
	h.Write(m.Canonical())
	h.Write([]byte("\n"))
	h.Write(cd[:])
	digest := hex.EncodeToString(h.Sum(nil))
	return &Version{
		ID:         digest[:12],
		Service:    m.Name,
		Digest:     digest,
		Kind:       m.Kind(),
		Manifest:   m,
		Source:     source,
		CodeDigest: hex.EncodeToString(cd[:]),
		CodeSize:   int64(len(code)),
	}
}

// KV keys. Service names are [a-z0-9-], version IDs hex, so both are valid
// key tokens; route keys are base64url so any route fits.
func serviceKey(name string) string    { return "svc." + name }
func versionKey(svc, id string) string { return "ver." + svc + "." + id }
func versionPrefix(svc string) string  { return "ver." + svc + ".*" }
func codeObject(svc, id string) string { return svc + "/" + id }
func routeClaimKey(route string) string {
	return "route." + base64.RawURLEncoding.EncodeToString([]byte(route))
}

type routeClaim struct {
	Service string `json:"service"`
	Route   string `json:"route"`
}
