package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/sgfake"
)

// liveVars runs outcry live against the fake SendGrid, letters and
// supporter mail going at once, the console open with adminPassword.
func liveVars(fake *sgfake.Server) map[string]string {
	return map[string]string{
		"SENDGRID_API_KEY":      "SG.test-key",
		"OUTCRY_SENDGRID_URL":   fake.URL(),
		"OUTCRY_FROM_EMAIL":     "letters@campaign.example",
		"OUTCRY_SEND_RATE":      "0",
		"OUTCRY_SPREAD":         "off",
		"OUTCRY_READINESS":      "warn",
		"OUTCRY_ADMIN_PASSWORD": adminPassword,
	}
}

func consentLetter(email string, consent bool) string {
	return fmt.Sprintf(`{"first_name":%q,"last_name":"Lee","email":%q,"subject":"Stop","body":"Please stop.","accept_privacy":true,"consent_updates":%v}`,
		strings.ToUpper(email[:1])+email[1:strings.Index(email, "@")], email, consent)
}

// writeLetters creates save-the-park and writes one letter per address.
func writeLetters(t *testing.T, base string, consent map[string]bool) {
	t.Helper()
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", secondCampaign, true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for email, c := range consent {
		if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", consentLetter(email, c), false); r.status != 202 {
			t.Fatalf("letter of %s: %d %s", email, r.status, r.body)
		}
	}
}

type sentUpdate struct {
	ID         int64 `json:"id"`
	Recipients int   `json:"recipients"`
}

func sendUpdate(t *testing.T, base, subject, text string, want int) sentUpdate {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"subject": subject, "body": text})
	r := call(t, "POST", base+"/admin/api/campaigns/save-the-park/updates", "application/json", string(b), true)
	if r.status != want {
		t.Fatalf("update %q: %d %s, want %d", subject, r.status, r.body, want)
	}
	var u sentUpdate
	if err := json.Unmarshal([]byte(r.body), &u); err != nil || u.ID == 0 {
		t.Fatalf("update answer %s: %v", r.body, err)
	}
	return u
}

// settled waits until every update of save-the-park has all its mails
// queued and each of them sent, cancelled or failed: from then on the fake
// SendGrid holds every update email there will be.
func settled(t *testing.T, a *app.App) {
	t.Helper()
	waitFor(t, "the update mails to settle", func() bool {
		us, err := a.Updates.List(context.Background(), "save-the-park")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if !u.Done || u.Sent+u.Cancelled+u.Failed != u.Queued {
				return false
			}
		}
		n, err := a.Store.QueuedMails(context.Background(), "update")
		return err == nil && n == 0
	})
}

func mailsWithSubject(fake *sgfake.Server, subject string) []sgfake.Mail {
	var out []sgfake.Mail
	for _, r := range fake.Requests() {
		if r.Mail.Subject == subject {
			out = append(out, r.Mail)
		}
	}
	return out
}

// TestUpdateReachesOnlyWhoAsked is issue 26's test: an update goes to 3
// supporters of whom one did not consent and one unsubscribed through the
// RFC 8058 one-click POST of the first update's List-Unsubscribe header;
// exactly one receives it at the fake SendGrid. A mail scanner's GET or
// HEAD of the unsubscribe link changes nothing; the receipt shows the
// unsubscribe; sending the same update twice (API, or a double click in
// the console) mails nobody twice; the supporters' export counts what each
// received.
func TestUpdateReachesOnlyWhoAsked(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	a, base := start(t, liveVars(fake))
	writeLetters(t, base, map[string]bool{"ann@example.org": true, "bob@example.org": false, "cay@example.org": true})

	// The first update reaches the two who consented.
	first := sendUpdate(t, base, "First news", "The council will vote on Monday.", http.StatusAccepted)
	if first.Recipients != 2 {
		t.Fatalf("first update: %d recipients, want 2", first.Recipients)
	}
	got := waitMails(t, fake, 2, func(m sgfake.Mail) bool { return m.Subject == "First news" })
	var cayMail sgfake.Mail
	for _, m := range got {
		if to(m) == "bob@example.org" {
			t.Fatal("bob, who did not consent, got the update")
		}
		if m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" || !strings.HasPrefix(m.Headers["List-Unsubscribe"], "<http") {
			t.Fatalf("update to %s without RFC 8058 headers: %v", to(m), m.Headers)
		}
		link := strings.Trim(m.Headers["List-Unsubscribe"], "<>")
		if !strings.Contains(body(m), link) || !strings.Contains(body(m), "The council will vote on Monday.") {
			t.Fatalf("the update's text lacks the unsubscribe link or the news:\n%s", body(m))
		}
		if to(m) == "cay@example.org" {
			cayMail = m
		}
	}
	unsub := local(base, strings.Trim(cayMail.Headers["List-Unsubscribe"], "<>"))
	u, _ := url.Parse(unsub)
	cay, err := a.Updates.ParseToken(u.Query().Get("t"))
	if err != nil {
		t.Fatal(err)
	}
	unsubscribed := func() bool {
		r, _, err := a.Store.Receipt(context.Background(), cay)
		if err != nil {
			t.Fatal(err)
		}
		return r.UnsubscribedAt != nil
	}

	// A mail scanner opens the link: a page with a button, nothing changes.
	r := call(t, "GET", unsub, "", "", false)
	if r.status != 200 || !strings.Contains(r.body, "Unsubscribe me") {
		t.Fatalf("GET %s: %d\n%s", unsub, r.status, r.body)
	}
	if r := call(t, "HEAD", unsub, "", "", false); r.status != 200 {
		t.Fatalf("HEAD: %d", r.status)
	}
	// A POST without the page's stamp and without the one-click body: the
	// page again, nothing changes.
	if r := call(t, "POST", base+u.Path, "application/x-www-form-urlencoded", url.Values{"t": {u.Query().Get("t")}}.Encode(), false); r.status != 200 ||
		!strings.Contains(r.body, "Unsubscribe me") {
		t.Fatalf("POST without stamp: %d", r.status)
	}
	if unsubscribed() {
		t.Fatal("a GET, a HEAD or a stampless POST unsubscribed")
	}

	// The mail provider's one-click POST (RFC 8058): no cookie, no stamp.
	req, _ := http.NewRequest(http.MethodPost, unsub, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !unsubscribed() {
		t.Fatalf("one-click POST: %d, unsubscribed %v", resp.StatusCode, unsubscribed())
	}
	receipt := local(base, linkRe.FindString(body(cayMail)))
	if r := call(t, "GET", receipt, "", "", false); !strings.Contains(r.body, "You unsubscribed from the updates about this campaign") {
		t.Fatalf("cay's receipt does not show the unsubscribe:\n%s", r.body)
	}

	// The second update: 3 supporters, 1 without consent, 1 unsubscribed;
	// sent twice (a retried request): exactly 1 receives it, once.
	second := sendUpdate(t, base, "Second news", "We won the vote.", http.StatusAccepted)
	if second.Recipients != 1 {
		t.Fatalf("second update: %d recipients, want 1", second.Recipients)
	}
	if again := sendUpdate(t, base, "Second news", "We won the vote.", http.StatusOK); again.ID != second.ID {
		t.Fatalf("the same update again is update %d, want %d", again.ID, second.ID)
	}
	// A double click in the console.
	c := signIn(t, base, adminPassword)
	form := url.Values{"subject": {"Third news"}, "body": {"Thank you all."}, "action": {"send"}}
	if got := c.post("/admin/updates?campaign=save-the-park", form, "/admin/updates?campaign=save-the-park"); !strings.HasSuffix(got, "ok=usent") {
		t.Fatalf("console send went to %s", got)
	}
	if got := c.post("/admin/updates?campaign=save-the-park", form, "/admin/updates?campaign=save-the-park"); !strings.HasSuffix(got, "ok=urepeat") {
		t.Fatalf("console double click went to %s", got)
	}
	settled(t, a)
	for subject, n := range map[string]int{"First news": 2, "Second news": 1, "Third news": 1} {
		ms := mailsWithSubject(fake, subject)
		if len(ms) != n {
			t.Errorf("%q reached %d mailboxes, want %d", subject, len(ms), n)
		}
		if n == 1 && len(ms) == 1 && to(ms[0]) != "ann@example.org" {
			t.Errorf("%q went to %s, want ann", subject, to(ms[0]))
		}
	}

	// Recorded: who sent it, when, how many.
	r = call(t, "GET", base+"/admin/api/campaigns/save-the-park/updates", "", "", true)
	var list struct {
		Updates []struct {
			ID         int64  `json:"id"`
			Subject    string `json:"subject"`
			SentBy     string `json:"sent_by"`
			Recipients int    `json:"recipients"`
			Sent       int    `json:"sent"`
			CreatedAt  string `json:"created_at"`
		} `json:"updates"`
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || r.status != 200 || len(list.Updates) != 3 {
		t.Fatalf("updates list: %d %s", r.status, r.body)
	}
	if l := list.Updates[0]; l.Subject != "Third news" || l.SentBy != "console" || l.Recipients != 1 || l.Sent != 1 || l.CreatedAt == "" {
		t.Fatalf("newest update %+v", l)
	}
	if l := list.Updates[2]; l.ID != first.ID || l.SentBy != "api" || l.Recipients != 2 || l.Sent != 2 {
		t.Fatalf("first update %+v", l)
	}
	if page := c.get("/admin/updates?campaign=save-the-park"); !strings.Contains(page, "Third news") || !strings.Contains(page, `id="update-audience">1 supporter<`) {
		t.Fatalf("the Updates page does not list the updates or the audience:\n%s", page)
	}

	// The supporters' export: updates received, and when they unsubscribed.
	r = call(t, "GET", base+"/admin/api/supporters?campaign=save-the-park", "", "", true)
	var sups struct {
		Supporters []struct {
			Email           string  `json:"email"`
			UpdatesReceived int     `json:"updates_received"`
			UnsubscribedAt  *string `json:"unsubscribed_at"`
		} `json:"supporters"`
	}
	if err := json.Unmarshal([]byte(r.body), &sups); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		n     int
		unsub bool
	}{"ann@example.org": {3, false}, "bob@example.org": {0, false}, "cay@example.org": {1, true}}
	for _, s := range sups.Supporters {
		if w := want[s.Email]; s.UpdatesReceived != w.n || (s.UnsubscribedAt != nil) != w.unsub {
			t.Errorf("%s: %d updates, unsubscribed %v; want %d, %v", s.Email, s.UpdatesReceived, s.UnsubscribedAt, w.n, w.unsub)
		}
	}
	csv := c.get("/admin/supporters.csv?campaign=save-the-park")
	if !strings.Contains(csv, ",updates_received,unsubscribed_at\n") || !strings.Contains(csv, "ann@example.org,Ann,Lee") {
		t.Fatalf("supporters.csv:\n%s", csv)
	}
	for _, line := range strings.Split(csv, "\n") {
		if strings.HasPrefix(line, fmt.Sprint(cay)+",") && (!strings.Contains(line, ",1,20") || strings.HasSuffix(line, ",")) {
			t.Fatalf("cay's CSV row lacks her update count or unsubscribe time: %s", line)
		}
	}
}

// TestUpdateAPIRefusals: bad input is 422 naming the field, an unknown
// campaign 404, a body that is not the update 400; nothing is recorded.
func TestUpdateAPIRefusals(t *testing.T) {
	a, base := start(t, nil)
	slug := a.Campaigns.All()[0].Slug
	for _, tc := range []struct {
		path, body string
		status     int
		field      string
	}{
		{"/admin/api/campaigns/" + slug + "/updates", `{"subject":"","body":"News"}`, 422, `"subject"`},
		{"/admin/api/campaigns/" + slug + "/updates", `{"subject":"News","body":"  "}`, 422, `"body"`},
		{"/admin/api/campaigns/" + slug + "/updates", `{"subject":"two\nlines","body":"b"}`, 422, `"subject"`},
		{"/admin/api/campaigns/" + slug + "/updates", `{"subject":"News","body":"b","to":"everyone"}`, 400, ""},
		{"/admin/api/campaigns/" + slug + "/updates", `not json`, 400, ""},
		{"/admin/api/campaigns/no-such-campaign/updates", `{"subject":"News","body":"b"}`, 404, ""},
	} {
		r := call(t, "POST", base+tc.path, "application/json", tc.body, true)
		if r.status != tc.status || !strings.Contains(r.body, tc.field) {
			t.Errorf("%s %s: %d %s, want %d naming %s", tc.path, tc.body, r.status, r.body, tc.status, tc.field)
		}
	}
	if r := call(t, "GET", base+"/admin/api/campaigns/no-such-campaign/updates", "", "", true); r.status != 404 {
		t.Errorf("GET of an unknown campaign's updates: %d", r.status)
	}
	if r := call(t, "GET", base+"/admin/api/campaigns/"+slug+"/updates", "", "", true); r.status != 200 || !strings.Contains(r.body, `"updates":[]`) {
		t.Errorf("updates after refusals: %d %s", r.status, r.body)
	}
}

// TestErasureCancelsQueuedUpdate: with sending paused, an update's mails
// wait in the queue; erasing one supporter cancels theirs; once sending
// resumes, only the other receives the update.
func TestErasureCancelsQueuedUpdate(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	a, base := start(t, liveVars(fake))
	writeLetters(t, base, map[string]bool{"ann@example.org": true, "dan@example.org": true})
	c := signIn(t, base, adminPassword)
	c.post("/admin/pause", url.Values{}, "/admin")
	sendUpdate(t, base, "Paused news", "Wait for it.", http.StatusAccepted)
	waitFor(t, "both update mails queued", func() bool {
		n, err := a.Store.QueuedMails(context.Background(), "update")
		return err == nil && n == 2
	})
	if r := call(t, "POST", base+"/admin/api/supporters/erase", "application/json", `{"email":"dan@example.org"}`, true); r.status != 200 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	us, err := a.Updates.List(context.Background(), "save-the-park")
	if err != nil || len(us) != 1 || us[0].Cancelled != 1 || us[0].Queued != 2 {
		t.Fatalf("after the erasure: %+v %v; want 1 of 2 mails cancelled", us, err)
	}
	c.post("/admin/resume", url.Values{}, "/admin")
	settled(t, a)
	ms := mailsWithSubject(fake, "Paused news")
	if len(ms) != 1 || to(ms[0]) != "ann@example.org" {
		var tos []string
		for _, m := range ms {
			tos = append(tos, to(m))
		}
		t.Fatalf("the update reached %v, want ann only", tos)
	}
}
