package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/outhook"
)

// The whole service: an endpoint made through /admin/api/webhooks receives
// letter.created, signed with the secret the API showed once, for a letter
// written through /api/v1; sent by the elected sender without any further
// step. The API's answers: 201 with a whsec_ secret, 422 naming the field,
// the list without secrets, PATCH, DELETE.
func TestWebhooksThroughTheAPI(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	arrived := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, string(b))
		mu.Unlock()
		arrived <- struct{}{}
	}))
	defer rcv.Close()
	a, base := start(t, map[string]string{"OUTCRY_WEBHOOKS_INSECURE": "on"})
	_ = a

	for body, field := range map[string]string{
		`{"url":"ftp://x","events":["letter.created"]}`:                           "url",
		`{"url":"` + rcv.URL + `","events":["letter.eaten"]}`:                     "events",
		`{"url":"` + rcv.URL + `","events":[]}`:                                   "events",
		`{"url":"` + rcv.URL + `","events":["letter.created"],"campaign":"nope"}`: "campaign",
	} {
		r := call(t, "POST", base+"/admin/api/webhooks", "application/json", body, true)
		var e struct{ Errors map[string]string }
		json.Unmarshal([]byte(r.body), &e)
		if r.status != http.StatusUnprocessableEntity || e.Errors[field] == "" {
			t.Errorf("%s: %d %s, want 422 naming %s", body, r.status, r.body, field)
		}
	}
	if r := call(t, "POST", base+"/admin/api/webhooks", "application/json", `{"url":"`+rcv.URL+`","events":["letter.created"]}`, false); r.status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", r.status)
	}
	if r := call(t, "POST", base+"/admin/api/webhooks", "application/json", `{"url":`, true); r.status != http.StatusBadRequest {
		t.Errorf("broken JSON: %d %s", r.status, r.body)
	}

	r := call(t, "POST", base+"/admin/api/webhooks", "application/json", `{"url":"`+rcv.URL+`/in","events":["letter.created"],"personal_data":true}`, true)
	var created struct {
		ID           int64    `json:"id"`
		Secret       string   `json:"secret"`
		URL          string   `json:"url"`
		Events       []string `json:"events"`
		PersonalData bool     `json:"personal_data"`
		Enabled      bool     `json:"enabled"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || r.status != http.StatusCreated || !strings.HasPrefix(created.Secret, "whsec_") ||
		created.ID == 0 || !created.PersonalData || !created.Enabled || created.URL != rcv.URL+"/in" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	list := call(t, "GET", base+"/admin/api/webhooks", "", "", true)
	if list.status != 200 || strings.Contains(list.body, "whsec_") || !strings.Contains(list.body, `"id":1`) {
		t.Fatalf("list: %d %s", list.status, list.body)
	}

	if r := call(t, "POST", base+"/api/v1/campaigns/"+slug(t, base)+"/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
		t.Fatalf("letter: %d %s", r.status, r.body)
	}
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery within 30 s")
	}
	mu.Lock()
	req, body := got[0], bodies[0]
	mu.Unlock()
	if err := outhook.Verify(created.Secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"),
		[]byte(body), time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if !strings.Contains(body, `"type":"letter.created"`) || !strings.Contains(body, "ann@example.org") {
		t.Fatalf("body %s", body)
	}

	if r := call(t, "PATCH", base+"/admin/api/webhooks/1", "application/json", `{"enabled":false,"personal_data":false}`, true); r.status != 200 ||
		!strings.Contains(r.body, `"enabled":false`) || !strings.Contains(r.body, `"personal_data":false`) {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := call(t, "PATCH", base+"/admin/api/webhooks/1", "application/json", `{"url":"http://"}`, true); r.status != 422 || !strings.Contains(r.body, `"url"`) {
		t.Fatalf("patch bad url: %d %s", r.status, r.body)
	}
	if r := call(t, "PATCH", base+"/admin/api/webhooks/99", "application/json", `{}`, true); r.status != 404 {
		t.Fatalf("patch missing: %d %s", r.status, r.body)
	}
	if r := call(t, "DELETE", base+"/admin/api/webhooks/1", "", "", true); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := call(t, "DELETE", base+"/admin/api/webhooks/1", "", "", true); r.status != 404 {
		t.Fatalf("delete again: %d %s", r.status, r.body)
	}
}

// slug is the bundled campaign's slug.
func slug(t *testing.T, base string) string {
	t.Helper()
	r := call(t, "GET", base+"/api/v1/campaigns", "", "", false)
	var out struct {
		Campaigns []struct{ Slug string } `json:"campaigns"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out.Campaigns) == 0 {
		t.Fatalf("campaigns: %s", r.body)
	}
	return out.Campaigns[0].Slug
}
