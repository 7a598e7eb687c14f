// Package archtest asserts the allowed import directions between outcry's
// internal packages, so that an arrow pointing back up fails CI.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/outcry/outcry/internal/"

// forbidden lists, for a package, the internal packages it must not depend
// on, directly or through another package (go list -deps). "*" forbids every
// internal package.
var forbidden = map[string][]string{
	"store":    {"delivery", "webhook", "outbox", "letter", "web", "admin", "app"},
	"letter":   {"outbox", "delivery", "web", "admin", "app"},
	"config":   {"webhook", "delivery", "outbox", "store"},
	"metrics":  {"delivery", "outbox", "web", "admin"},
	"sendlog":  {"*"},
	"pushback": {"*"},
	"webhook":  {"store", "delivery", "outbox", "web", "admin"},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

// deps returns, for each internal package, the internal packages it
// depends on (non-test builds).
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps", "github.com/outcry/outcry/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	res := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name, ok := strings.CutPrefix(p.ImportPath, mod)
		if !ok {
			continue
		}
		for _, d := range p.Deps {
			if dn, ok := strings.CutPrefix(d, mod); ok {
				res[name] = append(res[name], dn)
			}
		}
	}
	return res
}

func TestImportDirections(t *testing.T) {
	all := deps(t)
	for name, bad := range forbidden {
		ds, ok := all[name]
		if !ok {
			// A package with no internal dependencies has no entry: check it exists.
			if out, err := exec.Command("go", "list", mod+name).CombinedOutput(); err != nil {
				t.Errorf("package %s: %v: %s", name, err, out)
			}
		}
		for _, d := range ds {
			for _, b := range bad {
				if b == "*" || d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("internal/%s depends on internal/%s: arrows point down only (see internal/archtest)", name, d)
				}
			}
		}
	}
}

// TestForbiddenIsChecked makes sure the check can fail: webhook depends on
// sendlog, which a rule forbidding it would catch.
func TestForbiddenIsChecked(t *testing.T) {
	all := deps(t)
	found := false
	for _, d := range all["webhook"] {
		found = found || d == "sendlog"
	}
	if !found {
		t.Fatalf("webhook's dependencies %v lack sendlog: the dependency listing is broken", all["webhook"])
	}
}
