package oatest

import (
	"net/http"
	"testing"
)

func TestDocValid(t *testing.T) {
	if _, _, err := Doc(); err != nil {
		t.Fatal(err)
	}
}

// Check catches what it is there for: an undocumented route, status, field
// type or content type.
func TestCheckCatchesMismatches(t *testing.T) {
	js := http.Header{"Content-Type": {"application/json"}}
	get := func(path string) *http.Request { r, _ := http.NewRequest("GET", "http://x"+path, nil); return r }
	post := func(path string) *http.Request { r, _ := http.NewRequest("POST", "http://x"+path, nil); return r }
	ok := []struct {
		r      *http.Request
		status int
		h      http.Header
		body   string
	}{
		{get("/api/v1/campaigns"), 200, js, `{"campaigns":[{"slug":"a","title":"A","url":"u","count":1,"status":"open"}]}`},
		{post("/api/v1/campaigns/a/letters"), 202, js, `{"status":"accepted"}`},
		{post("/api/v1/campaigns/a/letters"), 422, js, `{"errors":{"email":"no"}}`},
		{get("/not/the/api"), 418, nil, "anything"},
	}
	for _, c := range ok {
		if p := Check(c.r, c.status, c.h, []byte(c.body)); p != "" {
			t.Errorf("%s %s %d: %s", c.r.Method, c.r.URL.Path, c.status, p)
		}
	}
	bad := []struct {
		name   string
		r      *http.Request
		status int
		h      http.Header
		body   string
	}{
		{"undocumented status", get("/api/v1/campaigns"), 500, js, `{"error":"x"}`},
		{"wrong field type", get("/api/v1/campaigns"), 200, js, `{"campaigns":[{"slug":1,"title":"A","url":"u","count":1,"status":"open"}]}`},
		{"missing field", post("/api/v1/campaigns/a/letters"), 202, js, `{}`},
		{"undocumented content type", post("/api/v1/campaigns/a/letters"), 202, http.Header{"Content-Type": {"text/html"}}, `<p>ok</p>`},
		{"undocumented route", get("/api/v1/nothing/here"), 200, js, `{}`},
	}
	for _, c := range bad {
		if p := Check(c.r, c.status, c.h, []byte(c.body)); p == "" {
			t.Errorf("%s: not caught", c.name)
		}
	}
}
