// Package mailtext reads the templates of the emails outcry writes to
// people (templates/*.txt): each is a text template with a "subject" block
// for its subject line and the email's text as its body.
package mailtext

import (
	"errors"
	"fmt"
	"io/fs"
	"text/template"
)

// Parse reads and parses the email template name from fsys, and checks that
// it has its {{define "subject"}} block.
func Parse(fsys fs.FS, name string) (*template.Template, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("templates/%s: %w", name, err)
	}
	t, err := template.New(name).Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("templates/%s: %w", name, err)
	}
	if t.Lookup("subject") == nil {
		return nil, errors.New(`templates/` + name + ` has no {{define "subject"}}`)
	}
	return t, nil
}
