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
	"github.com/outcry/outcry/internal/sgfake"
)

// A reply posted to the real inbound endpoint reaches the outgoing
// webhooks as reply.received (issue 22 → 23): signed with each endpoint's
// secret; the sender, subject and text only for the endpoint marked for
// personal data; nothing for an endpoint that did not subscribe to it.
func TestReplyReceivedWebhook(t *testing.T) {
	type delivery struct {
		path string
		hdr  http.Header
		body string
	}
	var mu sync.Mutex
	var got []delivery
	arrived := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.URL.Path, r.Header.Clone(), string(b)})
		mu.Unlock()
		arrived <- struct{}{}
	}))
	defer rcv.Close()
	fake := sgfake.New()
	defer fake.Close()
	_, base := start(t, replyVars(fake, map[string]string{"OUTCRY_DELIVERY": "individual", "OUTCRY_WEBHOOKS_INSECURE": "on"}))
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", relayCampaign("save-the-park", "individual"), true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
		t.Fatalf("letter: %d %s", r.status, r.body)
	}
	relay := waitMails(t, fake, 1, func(m sgfake.Mail) bool { return to(m) == "ted.sarandos@example.com" })[0].ReplyTo.Email

	secrets := map[string]string{}
	for path, body := range map[string]string{
		"/personal": `{"url":"` + rcv.URL + `/personal","events":["reply.received"],"personal_data":true}`,
		"/public":   `{"url":"` + rcv.URL + `/public","events":["reply.received"],"campaign":"save-the-park"}`,
		"/letters":  `{"url":"` + rcv.URL + `/letters","events":["letter.created"]}`,
	} {
		r := call(t, "POST", base+"/admin/api/webhooks", "application/json", body, true)
		var created struct{ Secret string }
		if err := json.Unmarshal([]byte(r.body), &created); err != nil || r.status != http.StatusCreated {
			t.Fatalf("create endpoint %s: %d %s", path, r.status, r.body)
		}
		secrets[path] = created.Secret
	}

	r := postInbound(t, base, inboundSecret, sendgridSample(t, "default_data.txt", relay, "ted.sarandos@example.com"))
	if r.status != 200 || !strings.Contains(r.body, `"state":"forwarded"`) {
		t.Fatalf("reply: %d %s", r.status, r.body)
	}
	for range 2 {
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("reply.received not delivered to both subscribed endpoints within 30 s")
		}
	}
	time.Sleep(2 * time.Second) // room for a delivery that must not come
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2 (the letter.created endpoint gets none)", len(got))
	}
	for _, d := range got {
		if err := outhook.Verify(secrets[d.path], d.hdr.Get("webhook-id"), d.hdr.Get("webhook-timestamp"), d.hdr.Get("webhook-signature"),
			[]byte(d.body), time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("%s: signature: %v", d.path, err)
		}
		var ev struct {
			Type string
			Data map[string]any
		}
		if err := json.Unmarshal([]byte(d.body), &ev); err != nil {
			t.Fatalf("%s: %v: %s", d.path, err, d.body)
		}
		if ev.Type != "reply.received" || ev.Data["campaign"] != "save-the-park" || ev.Data["target"] != "ted-sarandos" ||
			ev.Data["kind"] != "reply" || ev.Data["state"] != "forwarded" || ev.Data["direction"] != "from_target" ||
			ev.Data["id"] == nil || ev.Data["received_at"] == nil {
			t.Fatalf("%s: %s", d.path, d.body)
		}
		personal := strings.Contains(d.body, "Hello Twilio SendGrid!") && strings.Contains(d.body, "ted.sarandos@example.com") &&
			strings.Contains(d.body, "Testing non-raw")
		switch {
		case d.path == "/personal" && !personal:
			t.Fatalf("the personal endpoint lacks the sender, subject or text: %s", d.body)
		case d.path == "/public" && (strings.Contains(d.body, "Hello Twilio") || strings.Contains(d.body, "@") || strings.Contains(d.body, "non-raw")):
			t.Fatalf("the endpoint not marked for personal data got personal data: %s", d.body)
		}
	}
}
