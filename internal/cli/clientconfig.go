package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/node"
)

// dataDir is --data for serve and dev; for client commands, $WISP_DATA,
// else ./.wisp.
func (g *globals) dataDir() string {
	return firstNonEmpty(g.data, g.env.Getenv("WISP_DATA"), node.DefaultDataDir)
}

// client finds the server and token: flags, then WISP_SERVER/WISP_TOKEN,
// then the local data directory.
func (g *globals) client() (*client.Client, error) {
	server := firstNonEmpty(g.server, g.env.Getenv("WISP_SERVER"))
	if server == "" {
		b, err := os.ReadFile(filepath.Join(g.dataDir(), node.URLFile))
		switch {
		case err == nil:
			server = strings.TrimSpace(string(b))
		case errors.Is(err, fs.ErrNotExist):
			server = "http://" + node.DefaultAdmin
		default:
			return nil, fmt.Errorf("read the server address: %w", err)
		}
	}
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	token := firstNonEmpty(g.token, g.env.Getenv("WISP_TOKEN"))
	if token == "" {
		path := filepath.Join(g.dataDir(), node.TokenFile)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageError{fmt.Errorf("no admin token: pass --token, set WISP_TOKEN, or run where %s is readable (%v)", path, err)}
		}
		token = strings.TrimSpace(string(b))
	}
	return client.New(server, token), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
