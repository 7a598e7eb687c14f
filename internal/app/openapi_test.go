package app_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/openapi/oatest"
)

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Every route the server registers under /api/v1 and /admin/api is in the
// OpenAPI document, and every operation of the document is a registered
// route. A route added without documenting it fails here: document it in
// internal/openapi/openapi.yaml.
func TestRoutesDocumented(t *testing.T) {
	a, _ := start(t, nil)
	doc, _, err := oatest.Doc()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	registered := map[string]bool{}
	for _, r := range a.Web.Echo.Routes() {
		if !slices.Contains(methods, r.Method) || !oatest.Documented(r.Path) {
			continue
		}
		p := param.ReplaceAllString(r.Path, "{$1}")
		key := r.Method + " " + p
		registered[key] = true
		item := doc.Paths.Find(p)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s is registered but not in internal/openapi/openapi.yaml: document it there", key)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if key := method + " " + path; !registered[key] {
				t.Errorf("%s is in the OpenAPI document but the server has no such route", key)
			}
		}
	}
	if len(registered) < 10 {
		t.Fatalf("only %d routes found: %v", len(registered), registered)
	}
}

// The document is served as JSON at /api/openapi.json.
func TestOpenAPIServed(t *testing.T) {
	_, base := start(t, nil)
	r := call(t, "GET", base+"/api/openapi.json", "", "", false)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || r.status != 200 || !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/api/v1/campaigns/{slug}/letters"] == nil {
		t.Fatalf("%d %.300s", r.status, r.body)
	}
}
