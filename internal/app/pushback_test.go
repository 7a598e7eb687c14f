package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
)

// The back-off through the whole service (issue 28 §4): a "deferred" event
// posted to the real event webhook for a letter sent through the fake
// SendGrid halves the target's allowance at the sender's next renewal;
// /metrics and the console's targets page show it.
func TestBackoffThroughTheEventWebhook(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	vars := liveVars(fake)
	vars["OUTCRY_WEBHOOK_UNSIGNED"] = "on"
	_, base := start(t, vars)
	if r := call(t, "POST", base+"/api/v1/campaigns/"+slug(t, base)+"/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
		t.Fatalf("letter: %d %s", r.status, r.body)
	}
	m := waitMails(t, fake, 1, func(m sgfake.Mail) bool { return to(m) == "ted.sarandos@example.com" })[0]
	id := m.CustomArgs["outcry_id"]
	if id == "" {
		t.Fatalf("no outcry_id in %+v", m.CustomArgs)
	}
	events := fmt.Sprintf(`[{"event":"deferred","sg_event_id":"d1","outcry_id":%q,"response":"421 4.7.0 try again later","timestamp":%d}]`,
		id, time.Now().Unix())
	if r := call(t, "POST", base+"/webhooks/sendgrid", "application/json", events, false); r.status != http.StatusOK || !strings.Contains(r.body, `"stored":1`) {
		t.Fatalf("event webhook: %d %s", r.status, r.body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := call(t, "GET", base+"/metrics", "", "", true)
		if strings.Contains(r.body, `outcry_target_hourly_allowance{target="ted-sarandos"} 15`) &&
			strings.Contains(r.body, `outcry_pushback_steps_total{step="down"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics shows no back-off:\n%s", grepLines(r.body, "pushback")+grepLines(r.body, "allowance"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := signIn(t, base, adminPassword)
	if page := c.get("/admin/targets"); !strings.Contains(page, "slowed to 15 an hour") || !strings.Contains(page, "deferred: 421 4.7.0 try again later") {
		t.Fatalf("targets page shows no back-off:\n%s", page)
	}
}
