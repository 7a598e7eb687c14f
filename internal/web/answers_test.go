package web

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/outcry/outcry/internal/pgtest"
)

var updateAnswers = flag.Bool("update-answers", false, "rewrite testdata/answers/ from the current code")

// TestJSONAnswersUnchanged: the public API's JSON answers are byte for byte
// the ones recorded in testdata/answers/ (recorded when they were built
// from map[string]any, whose keys encoding/json sorts): typing them must
// not change a field's name, order or spelling.
func TestJSONAnswersUnchanged(t *testing.T) {
	pgtest.SQLiteOnly(t) // one recording; the answers do not depend on the database
	a := newTestApp(t)
	for _, c := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"campaign", "GET", "/api/v1/campaigns/netflix-baby", "", 200},
		{"campaigns", "GET", "/api/v1/campaigns", "", 200},
		{"letter-invalid", "POST", "/api/v1/campaigns/netflix-baby/letters", `{"first_name":"","email":"not an address","body":"x"}`, 422},
		{"letter-accepted", "POST", "/api/v1/campaigns/netflix-baby/letters", `{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.org","postcode":"N1","subject":"Please","body":"Please stop it.","accept_privacy":true}`, 202},
	} {
		ct := ""
		if c.body != "" {
			ct = "application/json"
		}
		status, _, body := a.do(t, c.method, c.path, ct, c.body)
		if status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, status, c.status, body)
		}
		file := filepath.Join("testdata", "answers", c.name+".json")
		if *updateAnswers {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(want) {
			t.Errorf("%s %s answers\n%s\nwant (%s)\n%s", c.method, c.path, body, file, want)
		}
	}
}
