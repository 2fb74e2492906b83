package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/manifest"
)

// Service is one service folder of a project.
type Service struct {
	Dir          string // the folder holding wisp.toml
	ManifestPath string // Dir/wisp.toml, as named in errors
	Source       []byte // the manifest text
	Manifest     *manifest.Manifest
}

// Discover finds the services under dir: dir itself when it holds a
// wisp.toml, else each immediate subfolder that does, by name. Every
// manifest is parsed; the first invalid one is an error.
func Discover(dir string) ([]*Service, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open project: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, manifest.FileName)); err == nil {
		s, err := Load(dir)
		if err != nil {
			return nil, err
		}
		return []*Service{s}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read project folder: %w", err)
	}
	var out []*Service
	names := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, manifest.FileName)); err != nil {
			continue
		}
		s, err := Load(sub)
		if err != nil {
			return nil, err
		}
		if prev, dup := names[s.Manifest.Name]; dup {
			return nil, fmt.Errorf("%s: name: %q is also the name of the service in %s", s.ManifestPath, s.Manifest.Name, prev)
		}
		names[s.Manifest.Name] = s.ManifestPath
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s in %s or in its subfolders", manifest.FileName, dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// Load reads and validates the service in dir.
func Load(dir string) (*Service, error) {
	path := filepath.Join(dir, manifest.FileName)
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := manifest.Parse(path, src)
	if err != nil {
		return nil, err
	}
	return &Service{Dir: dir, ManifestPath: path, Source: src, Manifest: m}, nil
}

// Build runs the manifest's [build] command (its output goes to out) and
// returns the code to upload: the bundled worker, or the .wasm module.
func (s *Service) Build(ctx context.Context, out io.Writer) ([]byte, error) {
	if b := s.Manifest.Build; b != nil {
		cmd := exec.CommandContext(ctx, "sh", "-c", b.Command)
		cmd.Dir = filepath.Join(s.Dir, b.Cwd)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: build.command %q failed: %w", s.ManifestPath, b.Command, err)
		}
	}
	if s.Manifest.Wasm != "" {
		code, err := os.ReadFile(filepath.Join(s.Dir, s.Manifest.Wasm))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: wasm: %s does not exist", s.ManifestPath, s.Manifest.Wasm)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: wasm: %w", s.ManifestPath, err)
		}
		return code, nil
	}
	if _, err := os.Stat(filepath.Join(s.Dir, s.Manifest.Main)); err != nil {
		return nil, fmt.Errorf("%s: main: %s does not exist", s.ManifestPath, s.Manifest.Main)
	}
	code, err := bundle.JS(s.Dir, s.Manifest.Main)
	if err != nil {
		return nil, fmt.Errorf("%s: bundling %s failed:\n%w", s.ManifestPath, s.Manifest.Main, err)
	}
	return code, nil
}
