package admin

import (
	"encoding/csv"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
)

// After "Pause all sending" the dashboard says so once: the banner (with
// why), not also a flash and a paragraph repeating it (issue 26: three
// stacked notices said the same thing).
func TestPauseIsSaidOnce(t *testing.T) {
	e := newEnv(t)
	e.login()
	r := e.post("/admin/pause", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("pause: %d", r.status)
	}
	page := e.get(r.header.Get("Location"))
	if n := strings.Count(page.body, "is paused"); n != 1 {
		t.Errorf(`the dashboard says "is paused" %d times after pausing, want once:%s`, n, notices(page.body))
	}
	if strings.Contains(page.body, `class="flash"`) {
		t.Errorf("a flash beside the paused banner:%s", notices(page.body))
	}
	if !strings.Contains(page.body, `action="/admin/resume"`) {
		t.Error("no Resume button")
	}
	// Other flashes are still shown.
	e.post("/admin/resume", nil)
	if page := e.get("/admin?ok=resumed"); !strings.Contains(page.body, `class="flash" role="status">Sending has resumed.`) {
		t.Errorf("no flash after resuming:%s", notices(page.body))
	}
}

var noticeRe = regexp.MustCompile(`(?s)<(?:div|p) class="(?:banner|flash|alert)[^"]*"[^>]*>.*?</(?:div|p)>`)

func notices(page string) string { return "\n" + strings.Join(noticeRe.FindAllString(page, -1), "\n") }

// Issue 26 item 8: while sending is paused the delivery estimate and the
// next digest say the same thing; and with nothing paused, a digest is not
// announced for letters that all go alone.
func TestDeliveryEstimateAgreesWithTheNextDigest(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.Delivery = &outbox.Policy{Mode: delivery.Overflow, After: time.Hour, Max: 500, Cap: 30}
	})
	e.sign("a@example.org")
	e.login()
	row := regexp.MustCompile(`<tr><td>Ted Sarandos</td><td>([^<]*)</td><td>([^<]*)</td></tr>`)
	plan := func() (estimate, next string) {
		t.Helper()
		m := row.FindStringSubmatch(e.get("/admin").body)
		if m == nil {
			t.Fatal("no delivery line for Ted Sarandos on the dashboard")
		}
		return m[1], m[2]
	}
	est, next := plan()
	if est != "all letters delivered within about a minute, each as its own email" || next != "none" {
		t.Errorf("running: estimate %q, next digest %q; want each letter alone and no digest", est, next)
	}
	e.post("/admin/pause", nil)
	est, next = plan()
	if !strings.HasPrefix(est, "none until sending resumes; then all letters delivered within about a minute, each as its own email, if it resumes before ") ||
		!strings.HasSuffix(est, "(after that, in 1 digest)") {
		t.Errorf("paused: estimate %q", est)
	}
	if !strings.HasPrefix(next, "if sending is still paused at ") || !strings.HasSuffix(next, ": 1 letters, sent when it resumes") {
		t.Errorf("paused: next digest %q", next)
	}
	// The letters have waited longer than OUTCRY_DIGEST_AFTER: both say
	// they go in a digest when sending resumes.
	e.exec(`UPDATE messages SET queued_at = queued_at - 7200000, next_attempt_at = next_attempt_at - 7200000`)
	est, next = plan()
	if est != "none until sending resumes; then all letters delivered within about a minute, in 1 digest" || next != "when sending resumes, 1 letters" {
		t.Errorf("paused, waited 2 h: estimate %q, next digest %q", est, next)
	}
}

// messages.csv names the target's address also for a message still queued
// (the address it will go to), as the message page does (issue 26).
func TestMessagesCSVTargetEmailWhenQueued(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org")
	e.login()
	r := e.get("/admin/messages.csv")
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("%v: %d records", err, len(recs))
	}
	want := map[string]string{"ted-sarandos": "ted.sarandos@example.com", "greg-peters": "greg.peters@example.com",
		"bela-bajaria": "bela.bajaria@example.com", "reed-hastings": "reed.hastings@example.com"}
	for _, rec := range recs[1:] {
		if rec[4] != "queued" || rec[2] != want[rec[1]] {
			t.Errorf("%s (%s): target_email %q, want %q", rec[1], rec[4], rec[2], want[rec[1]])
		}
	}
}
