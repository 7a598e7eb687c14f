package admin

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/outhook"
)

// The Webhooks page: an endpoint added there shows its secret once; the
// "send a test event" button sends one, whose attempt the page then lists;
// bad input is named; disable, enable and delete work.
func TestWebhooksPage(t *testing.T) {
	arrived := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rcv.Close()
	var svc *outhook.Service
	e := newEnv(t, func(d *Deps) {
		svc = &outhook.Service{Store: d.Store.(outhook.Endpoints), Insecure: true, Campaign: func(s string) bool { _, ok := d.Campaigns.Get(s); return ok }}
		d.Webhooks = svc
	})
	e.login()
	if r := e.get("/admin/webhooks"); r.status != 200 || !strings.Contains(r.body, "No webhook endpoints yet") {
		t.Fatalf("empty page: %d %s", r.status, r.body)
	}
	r := e.post("/admin/webhooks", url.Values{"url": {"gopher://x"}, "events": {"letter.created"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="wh-url-err"`) {
		t.Fatalf("bad url: %d %s", r.status, r.body)
	}
	r = e.post("/admin/webhooks", url.Values{"url": {rcv.URL}, "events": {"letter.created", "supporter.erased"}, "personal_data": {"on"}})
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(r.body)
	if r.status != http.StatusCreated || secret == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	page := e.get("/admin/webhooks")
	if strings.Contains(page.body, "whsec_") || !strings.Contains(page.body, rcv.URL) || !strings.Contains(page.body, "No attempts yet") {
		t.Fatalf("page after create: %s", page.body)
	}
	if r := e.post("/admin/webhooks/1/test", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/webhooks?ok=whtest" {
		t.Fatalf("test button: %d %v", r.status, r.header)
	}
	s := outhook.NewSender(e.store, outhook.Options{Insecure: true, Poll: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	var id string
	select {
	case id = <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no test event arrived")
	}
	cancel()
	<-done
	page = e.get("/admin/webhooks")
	if !strings.Contains(page.body, id) || !strings.Contains(page.body, "webhook.test") || !strings.Contains(page.body, ">202<") {
		t.Fatalf("page does not show the attempt %s: %s", id, page.body)
	}
	if r := e.post("/admin/webhooks/1/disable", nil); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.status)
	}
	if page = e.get("/admin/webhooks"); !strings.Contains(page.body, "<strong>Disabled</strong>") {
		t.Fatalf("disabled endpoint not shown so: %s", page.body)
	}
	e.post("/admin/webhooks/1/enable", nil)
	if page = e.get("/admin/webhooks"); strings.Contains(page.body, "<strong>Disabled</strong>") {
		t.Fatal("still disabled after enable")
	}
	if r := e.post("/admin/webhooks/1/delete", nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	if r := e.post("/admin/webhooks/1/test", nil); r.status != http.StatusNotFound {
		t.Fatalf("test of a deleted endpoint: %d", r.status)
	}
	if r := e.do("POST", "/admin/webhooks/1/test", url.Values{"csrf": {"forged"}}); r.status == http.StatusSeeOther {
		t.Fatal("a forged CSRF token was accepted")
	}
}
