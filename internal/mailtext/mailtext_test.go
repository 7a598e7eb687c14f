package mailtext

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParse(t *testing.T) {
	fsys := fstest.MapFS{
		"ok.txt":        {Data: []byte(`{{define "subject"}}Hi {{.}}{{end}}Body`)},
		"nosubject.txt": {Data: []byte(`Body only`)},
		"broken.txt":    {Data: []byte(`{{if}}`)},
	}
	if _, err := Parse(fsys, "ok.txt"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"nosubject.txt": `no {{define "subject"}}`, "broken.txt": "templates/broken.txt", "missing.txt": "templates/missing.txt"} {
		if _, err := Parse(fsys, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, want)
		}
	}
}
