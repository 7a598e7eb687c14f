// Package outcry embeds the files a campaigner edits — page and letter
// templates, static files, the bundled campaign and its targets — so that
// the binary runs the example campaign anywhere. The code is under internal/.
package outcry

import (
	"embed"
	"errors"
	"io/fs"
	"os"
)

//go:embed templates static campaign.yaml targets.yaml
var files embed.FS

// Templates returns the templates folder: files in dir (when set) override
// the embedded ones of the same name.
func Templates(dir string) fs.FS {
	embedded, _ := fs.Sub(files, "templates")
	if dir == "" {
		return embedded
	}
	return overlay{top: os.DirFS(dir), base: embedded}
}

// Static returns the embedded static files (image, stylesheet).
func Static() fs.FS {
	s, _ := fs.Sub(files, "static")
	return s
}

// Bundled returns an embedded top-level file: campaign.yaml or targets.yaml.
func Bundled(name string) ([]byte, error) { return files.ReadFile(name) }

// overlay reads from top, falling back to base for files top does not have.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return o.base.Open(name)
	}
	return f, err
}
