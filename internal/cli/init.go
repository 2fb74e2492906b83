package cli

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/manifest"
	sdk "github.com/wisp-run/wisp/sdk/go"
)

//go:embed templates
var templatesFS embed.FS

// templateNames lists the templates `wisp init` offers.
func templateNames() []string {
	entries, _ := fs.ReadDir(templatesFS, "templates")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func initCmd(g *globals) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Create a new service folder NAME that deploys as it is",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir := a[0]
			name := filepath.Base(dir)
			if !manifest.ValidName(name) {
				return usageError{fmt.Errorf("%q is not a valid service name (lowercase letters, digits and '-', starting with a letter)", name)}
			}
			root := "templates/" + tmpl
			if _, err := fs.Stat(templatesFS, root); err != nil {
				return usageError{fmt.Errorf("unknown template %q (have: %s)", tmpl, strings.Join(templateNames(), ", "))}
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return fmt.Errorf("%s already exists and is not empty", dir)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			files, err := render(root, name)
			if err != nil {
				return err
			}
			if tmpl == "go" {
				sdkFiles, err := goSDK()
				if err != nil {
					return err
				}
				files = append(files, sdkFiles...)
			}
			for _, f := range files {
				path := filepath.Join(dir, f.path)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(path, f.data, 0o644); err != nil {
					return err
				}
			}
			if g.json {
				return g.printJSON(map[string]string{"service": name, "dir": dir, "template": tmpl})
			}
			g.printf("created %s (%s template)\nnext: wisp deploy %s && curl http://%s/%s/\n", dir, tmpl, dir, "127.0.0.1:8080", name)
			return nil
		},
	}
	cmd.Flags().StringVarP(&tmpl, "template", "t", "js", "template: "+strings.Join(templateNames(), ", "))
	return cmd
}

type file struct {
	path string
	data []byte
}

func render(root, name string) ([]file, error) {
	var out []file
	err := fs.WalkDir(templatesFS, root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := templatesFS.ReadFile(path)
		if err != nil {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(path, root+"/"), ".tmpl")
		if rel == "gitignore" {
			rel = ".gitignore" // a dot file cannot be embedded by a pattern
		}
		t, err := template.New(rel).Parse(string(src))
		if err != nil {
			return fmt.Errorf("template %s: %w", path, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, map[string]string{"Name": name}); err != nil {
			return fmt.Errorf("template %s: %w", path, err)
		}
		out = append(out, file{rel, b.Bytes()})
		return nil
	})
	return out, err
}

// goSDKDir is where `wisp init --template go` puts a copy of the Go SDK;
// the template's go.mod points its module there.
const goSDKDir = "wisp-sdk"

// goSDK is the Go SDK's module, to copy into a new Go service.
func goSDK() ([]file, error) {
	var out []file
	err := fs.WalkDir(sdk.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := sdk.Files.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, file{goSDKDir + "/" + path, data})
		return nil
	})
	return out, err
}
