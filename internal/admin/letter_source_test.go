package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The letter page says whether the text in force is the campaign file's or
// the console's, and can go back to the file's.
func TestLetterPageSaysWhereTheTextComesFromAndReverts(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.CampaignPath = "/srv/campaign.yaml" })
	e.login()
	r := e.get("/admin/letter")
	if !strings.Contains(r.body, "the letter in <code>/srv/campaign.yaml</code>") || strings.Contains(r.body, `value="revert"`) {
		t.Fatalf("before saving, the page does not say the file's letter is in force:\n%s", r.body)
	}
	if r := e.post("/admin/letter", url.Values{"action": {"save"}, "subject": {"Console subject"}, "body": {"Console body"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	r = e.get("/admin/letter")
	if !strings.Contains(r.body, "the letter saved in this console") || !strings.Contains(r.body, "overrides the letter in <code>/srv/campaign.yaml</code>") ||
		!strings.Contains(r.body, `value="revert"`) {
		t.Fatalf("after saving, the page does not say the console's letter overrides the file:\n%s", r.body)
	}
	if pub := e.get("/"); !strings.Contains(pub.body, "Console subject") {
		t.Fatal("saved letter not on the campaign page")
	}
	// Going back needs no subject or body.
	if r := e.post("/admin/letter", url.Values{"action": {"revert"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/letter?ok=lreverted" {
		t.Fatalf("revert: %d %s", r.status, r.header.Get("Location"))
	}
	r = e.get("/admin/letter?ok=lreverted")
	if strings.Contains(r.body, "Console subject") || !strings.Contains(r.body, "the letter in <code>/srv/campaign.yaml</code>") {
		t.Fatalf("after going back the page does not show the file's letter:\n%s", r.body)
	}
	if pub := e.get("/"); strings.Contains(pub.body, "Console subject") {
		t.Fatal("the campaign page still uses the console's letter")
	}
}

// The preview names the target by name and shows From, Reply-To and To as
// the mailer sets them.
func TestLetterPreviewShowsTargetAndHeaders(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.FromEmail, d.FromName = "letters@campaign.org", "Stop Baby" })
	e.login()
	r := e.get("/admin/letter?target=greg-peters")
	for _, want := range []string{
		"As <strong>Greg Peters</strong>, Co-Chief Executive Officer, Netflix, receives it",
		"<dt>From</dt><dd>Alex Sample via Stop Baby &lt;letters@campaign.org&gt;</dd>",
		"<dt>Reply-To</dt><dd>Alex Sample &lt;alex.sample@example.org&gt;",
		"<dt>To</dt><dd>Greg Peters &lt;greg.peters@example.com&gt;</dd>",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if strings.Contains(r.body, "As <em>greg-peters</em>") {
		t.Error("preview names the target by id")
	}
}
