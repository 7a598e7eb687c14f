package target

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const good = `# comment
targets:
  - id: ted-sarandos
    name: Ted Sarandos
    title: Co-CEO
    email: Ted.Sarandos@example.com
    salutation: Mr. Sarandos
    active: true
  - id: greg-peters
    name: Greg Peters
    title: Co-CEO
    email: greg.peters@example.com
    salutation: Mr. Peters
    active: false
`

func TestParseValid(t *testing.T) {
	ts, err := Parse("targets.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].ID != "ted-sarandos" || ts[0].Email != "ted.sarandos@example.com" || !ts[0].Active || ts[1].Active {
		t.Fatalf("got %+v", ts)
	}
	l := &List{All: ts}
	if a := l.Active(); len(a) != 1 || a[0].ID != "ted-sarandos" {
		t.Fatalf("active = %+v", a)
	}
}

func TestParseProblemsNameTheLine(t *testing.T) {
	entry := func(id, email string) string {
		return "  - id: " + id + "\n    name: N\n    title: T\n    email: " + email + "\n    salutation: S\n    active: true\n"
	}
	tests := []struct {
		name, file string
		want       string // substring of the message, including file:line
	}{
		{"syntax", "targets:\n  - id: a\n    name: [unclosed\n", "targets.yaml:3: not valid YAML"},
		{"tab indentation", "targets:\n\t- id: a\n", "targets.yaml:2: not valid YAML"},
		{"empty", "", "targets.yaml:1: file is empty"},
		{"not a list", "targets: hello\n", "targets.yaml:1: 'targets' must be a list"},
		{"no targets key", "people: []\n", "targets.yaml:1: unknown key \"people\""},
		{"bad email", "targets:\n" + entry("a", "not-an-email"), "targets.yaml:5: email \"not-an-email\" is not a valid address"},
		{"duplicate id", "targets:\n" + entry("a", "a@example.com") + entry("a", "b@example.com"), "targets.yaml:8: id \"a\" is already used on line 2"},
		{"duplicate email", "targets:\n" + entry("a", "a@example.com") + entry("b", "A@example.com"), "targets.yaml:8: email \"a@example.com\" is already used on line 2"},
		{"missing field", "targets:\n  - id: a\n    name: N\n    title: T\n    email: a@example.com\n    active: true\n", "targets.yaml:2: target is missing \"salutation\""},
		{"empty name", "targets:\n  - id: a\n    name: \"\"\n    title: T\n    email: a@example.com\n    salutation: S\n    active: true\n", "targets.yaml:2: name must not be empty"},
		{"unknown field", "targets:\n" + strings.Replace(entry("a", "a@example.com"), "    active", "    phone: 1\n    active", 1), "targets.yaml:7: unknown field \"phone\""},
		{"bad active", "targets:\n" + strings.Replace(entry("a", "a@example.com"), "active: true", "active: maybe", 1), "targets.yaml:7: active must be true or false"},
		{"bad id", "targets:\n" + entry("Ted Sarandos", "a@example.com"), "targets.yaml:2: id \"Ted Sarandos\" must be"},
		{"header injection", "targets:\n" + strings.Replace(entry("a", "a@example.com"), "name: N", "name: \"N\\r\\nBcc: x@evil.example\"", 1), "targets.yaml:3: name must be one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("targets.yaml", []byte(tt.file))
			if err == nil {
				t.Fatal("want an error")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestRegistryKeepsLastGoodList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("targets:\n  - id: [broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = r.Reload()
	if err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Fatalf("reload error = %v, want one naming %s:2", err, path)
	}
	if n := len(r.Current().All); n != 2 {
		t.Fatalf("after a bad reload the list has %d targets, want the previous 2", n)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	ts, err := Parse("a", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(ts)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("b", data)
	if err != nil {
		t.Fatalf("marshalled file does not parse: %v\n%s", err, data)
	}
	if len(back) != 2 || !reflect.DeepEqual(back[1], ts[1]) {
		t.Fatalf("round trip changed the targets: %+v", back)
	}
}

func TestBundledTargetsFileIsValid(t *testing.T) {
	ts, err := Load("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) < 3 {
		t.Fatalf("bundled targets: %d, want at least the co-CEOs and the chief content officer", len(ts))
	}
	for _, tg := range ts {
		if !strings.HasSuffix(tg.Email, "@example.com") {
			t.Errorf("bundled target %s has a real-looking address %s; placeholders must be at example.com", tg.ID, tg.Email)
		}
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.Update(func(all []Target) ([]Target, error) {
				id := fmt.Sprintf("added-%d", i)
				return append(all, Target{ID: id, Name: "N", Title: "T", Email: id + "@example.com", Salutation: "S", Active: true}), nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if n := len(r.Current().All); n != 22 {
		t.Fatalf("%d targets after 20 concurrent additions to 2, want 22", n)
	}
}
