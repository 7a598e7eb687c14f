package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/store"
)

const (
	inboundSecret = "inbound-secret-0123456789"
	replyDomain   = "reply.example.org"
	adminPassword = "correct horse battery"
)

// relayCampaign writes to one target, relays replies and follows up.
func relayCampaign(slug, delivery string) string {
	return fmt.Sprintf(`{"slug":%q,"title":"Save the park","summary":"Keep the park green.",
	"story":"The council wants to sell the park.\n\nWrite to them.","subject":"Keep the park","body":"Please keep the park.",
	"targets":["ted-sarandos"],"goal":500,"delivery":%q,"replies":"relay","followup":true,"show_responses":true}`, slug, delivery)
}

func replyVars(fake *sgfake.Server, extra map[string]string) map[string]string {
	v := map[string]string{
		"SENDGRID_API_KEY":      "SG.test-key",
		"OUTCRY_SENDGRID_URL":   fake.URL(),
		"OUTCRY_FROM_EMAIL":     "letters@campaign.example",
		"OUTCRY_SEND_RATE":      "0",
		"OUTCRY_SPREAD":         "off",  // issue 28: letters go at once, not spread over the hour
		"OUTCRY_READINESS":      "warn", // issue 26: the example targets do not hold sending
		"OUTCRY_REPLY_DOMAIN":   replyDomain,
		"OUTCRY_INBOUND_SECRET": inboundSecret,
		"OUTCRY_FOLLOWUP_AFTER": "10s",
		"OUTCRY_ADMIN_PASSWORD": adminPassword,
	}
	for k, val := range extra {
		v[k] = val
	}
	return v
}

// sendgridSample is one of SendGrid's own Inbound Parse payloads
// (internal/reply/testdata/sendgrid-python/SOURCE.md), addressed to relay
// address to and sent by from: only the addresses are replaced.
func sendgridSample(t *testing.T, file, to, from string) string {
	t.Helper()
	b, err := os.ReadFile("../reply/testdata/sendgrid-python/" + file)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("inbound@inbound.example.com", to, "inbound@inbound.inbound.com", to, "test@example.com", from).Replace(string(b))
	return s
}

// postInbound posts a payload as SendGrid Inbound Parse does.
func postInbound(t *testing.T, base, secret, body string) answer {
	t.Helper()
	return call(t, "POST", base+"/webhooks/sendgrid/inbound/"+secret, "multipart/form-data; boundary=xYzZY", body, false)
}

// waitMails waits until the fake holds n mails matching keep, and returns them.
func waitMails(t *testing.T, fake *sgfake.Server, n int, keep func(sgfake.Mail) bool) []sgfake.Mail {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		var got []sgfake.Mail
		for _, r := range fake.Requests() {
			if keep(r.Mail) {
				got = append(got, r.Mail)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 40 s for %d mails, have %d", n, len(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func to(m sgfake.Mail) string {
	if len(m.Personalizations) == 0 || len(m.Personalizations[0].To) == 0 {
		return ""
	}
	return m.Personalizations[0].To[0].Email
}

func body(m sgfake.Mail) string {
	if len(m.Content) == 0 {
		return ""
	}
	return m.Content[0].Value
}

var linkRe = regexp.MustCompile(`http://\S+/receipt/\S+`)

// local points a link of an email (OUTCRY_BASE_URL's host) at the test's server.
func local(base, link string) string {
	u, err := url.Parse(link)
	if err != nil || link == "" {
		return base + "/no-link"
	}
	return base + u.RequestURI()
}

// TestRelayedReplyEndToEnd drives the real server with SendGrid's own
// Inbound Parse payloads: a reply to a relayed letter is forwarded to its
// writer through the fake SendGrid and shown on the receipt; an
// out-of-office is recorded and not forwarded; a forged token is recorded
// as unmatched; the wrong secret, no secret and an oversized body are
// refused before anything is read or recorded.
func TestRelayedReplyEndToEnd(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	a, base := start(t, replyVars(fake, map[string]string{"OUTCRY_DELIVERY": "individual"}))
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", relayCampaign("save-the-park", "individual"), true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
		t.Fatalf("letter: %d %s", r.status, r.body)
	}
	letter := waitMails(t, fake, 1, func(m sgfake.Mail) bool { return to(m) == "ted.sarandos@example.com" })[0]
	relay := letter.ReplyTo.Email
	if !strings.HasSuffix(relay, "@"+replyDomain) || strings.Contains(relay, "ann") || letter.ReplyTo.Name != "Ann Lee" {
		t.Fatalf("letter's Reply-To %+v: want an opaque relay address with the writer's name", letter.ReplyTo)
	}
	if tok := strings.TrimSuffix(relay, "@"+replyDomain); len(tok) != 26 {
		t.Fatalf("relay token %q: want 26 random base32 characters", tok)
	}

	// The wrong secret, and an oversized body: refused, nothing recorded.
	payload := sendgridSample(t, "default_data.txt", relay, "ted.sarandos@example.com")
	if r := postInbound(t, base, "wrong-secret-0123456789", payload); r.status != http.StatusForbidden {
		t.Fatalf("wrong secret: %d", r.status)
	}
	var sent zeros
	big, err := http.NewRequest("POST", base+"/webhooks/sendgrid/inbound/"+inboundSecret, io.LimitReader(&sent, 30<<20))
	if err != nil {
		t.Fatal(err)
	}
	big.ContentLength = 30 << 20
	big.Header.Set("Content-Type", "multipart/form-data; boundary=xYzZY")
	resp, err := http.DefaultClient.Do(big)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("30 MB body: %d, want 413", resp.StatusCode)
	}
	// Refused from its Content-Length: the server stopped taking the body
	// long before the 26 MB a read up to the cap would have taken.
	if n := sent.n.Load(); n > 8<<20 {
		t.Fatalf("the client got to send %d bytes before the 413", n)
	}
	if rs, _ := a.Store.Replies(context.Background(), store.ReplyFilter{}); len(rs) != 0 {
		t.Fatalf("refused posts recorded %d replies", len(rs))
	}

	// A reply (the parsed format) is forwarded to the writer.
	r := postInbound(t, base, inboundSecret, payload)
	if r.status != 200 || !strings.Contains(r.body, `"state":"forwarded"`) {
		t.Fatalf("reply: %d %s", r.status, r.body)
	}
	fwd := waitMails(t, fake, 1, func(m sgfake.Mail) bool { return to(m) == "ann@example.org" && strings.Contains(m.Subject, "replied") })[0]
	if !strings.Contains(body(fwd), "Hello Twilio SendGrid!") || !strings.Contains(body(fwd), "Ted Sarandos") || fwd.ReplyTo.Email != relay {
		t.Fatalf("forward: reply-to %+v, body:\n%s", fwd.ReplyTo, body(fwd))
	}
	link := linkRe.FindString(body(fwd))
	if link == "" {
		t.Fatalf("no receipt link in the forward:\n%s", body(fwd))
	}
	if r := call(t, "GET", local(base, link), "", "", false); r.status != 200 || !strings.Contains(r.body, "Ted Sarandos replied") ||
		!strings.Contains(r.body, "Hello Twilio SendGrid!") {
		t.Fatalf("receipt does not show the reply: %d", r.status)
	}

	// An out-of-office (the raw format, with an attachment): recorded, not forwarded.
	ooo := sendgridSample(t, "raw_data_with_attachments.txt", relay, "ted.sarandos@example.com")
	ooo = strings.Replace(ooo, "MIME-Version: 1.0\n", "MIME-Version: 1.0\nAuto-Submitted: auto-replied\n", 1)
	if r := postInbound(t, base, inboundSecret, ooo); r.status != 200 || !strings.Contains(r.body, `"kind":"acknowledgement"`) ||
		!strings.Contains(r.body, `"state":"recorded"`) {
		t.Fatalf("out-of-office: %d %s", r.status, r.body)
	}
	// A forged token (raw format): unmatched, nothing sent.
	forged := sendgridSample(t, "raw_data.txt", "aaaaaaaaaaaaaaaaaaaaaaaaaa@"+replyDomain, "ted.sarandos@example.com")
	if r := postInbound(t, base, inboundSecret, forged); r.status != 200 || !strings.Contains(r.body, `"kind":"unmatched"`) {
		t.Fatalf("forged token: %d %s", r.status, r.body)
	}
	// From another domain: held for the organizer.
	stranger := sendgridSample(t, "raw_data.txt", relay, "someone@elsewhere.example")
	r = postInbound(t, base, inboundSecret, stranger)
	if r.status != 200 || !strings.Contains(r.body, `"state":"held"`) {
		t.Fatalf("stranger: %d %s", r.status, r.body)
	}
	time.Sleep(6 * time.Second) // the supporter-mail drain's idle wait (5 s) and one more round
	n := 0
	for _, rq := range fake.Requests() {
		// The follow-up (OUTCRY_FOLLOWUP_AFTER=10s) may come too when this
		// test runs slowly: it is not a reply.
		if to(rq.Mail) == "ann@example.org" && !strings.HasPrefix(rq.Mail.Subject, "Did they reply?") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the writer got %d mails, want only the one forward (no acknowledgement, no held reply)", n)
	}

	// Without the secret set, the route is off.
	_ = a
	t.Run("off without secret", func(t *testing.T) {
		_, base := start(t, map[string]string{})
		if r := postInbound(t, base, inboundSecret, payload); r.status != http.StatusNotFound {
			t.Fatalf("no OUTCRY_INBOUND_SECRET: %d, want 404", r.status)
		}
	})

	// Response figures in the stats API.
	r = call(t, "GET", base+"/admin/api/stats?campaign=save-the-park", "", "", true)
	var st struct {
		Targets []struct {
			ID        string          `json:"id"`
			Responses store.Responses `json:"responses"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatalf("stats: %v %s", err, r.body)
	}
	for _, tg := range st.Targets {
		if tg.ID == "ted-sarandos" && (tg.Responses.Replies != 1 || tg.Responses.Acknowledgements != 1) {
			t.Fatalf("ted-sarandos responses %+v: want 1 reply and 1 acknowledgement (the held one not counted)", tg.Responses)
		}
	}
	if r := call(t, "GET", base+"/metrics", "", "", true); !strings.Contains(r.body, `outcry_replies_total{campaign="save-the-park"} 2`) ||
		!strings.Contains(r.body, `outcry_acknowledgements_total{campaign="save-the-park"} 1`) {
		t.Fatalf("metrics lack the reply counters:\n%s", call(t, "GET", base+"/metrics", "", "", true).body)
	}
}

// zeros is an endless body of zero bytes that counts what was read of it.
type zeros struct{ n atomic.Int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n.Add(int64(len(p)))
	return len(p), nil
}

// TestDigestReplyPublished: a reply to a digest waits in the console's
// Replies page; once published it is on the receipt of every writer whose
// letter the digest carried, and those who consented get one email.
func TestDigestReplyPublished(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	a, base := start(t, replyVars(fake, map[string]string{"OUTCRY_TARGET_HOURLY_CAP": "2", "OUTCRY_DIGEST_AFTER": "10s"}))
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", relayCampaign("save-the-park", "overflow"), true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for i := range 4 {
		j := fmt.Sprintf(`{"first_name":"W%d","last_name":"Lee","email":"w%d@example.org","subject":"Stop","body":"Please stop.","accept_privacy":true,"consent_updates":%v}`, i, i, i%2 == 0)
		if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", j, false); r.status != 202 {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
	}
	digest := waitMails(t, fake, 1, func(m sgfake.Mail) bool {
		return to(m) == "ted.sarandos@example.com" && strings.HasSuffix(m.ReplyTo.Email, "@"+replyDomain) && m.ReplyTo.Name != "W0 Lee" &&
			!strings.HasPrefix(m.ReplyTo.Name, "W")
	})[0]
	r := postInbound(t, base, inboundSecret, sendgridSample(t, "default_data.txt", digest.ReplyTo.Email, "ted.sarandos@example.com"))
	if r.status != 200 || !strings.Contains(r.body, `"state":"pending"`) {
		t.Fatalf("digest reply: %d %s", r.status, r.body)
	}
	var out struct{ ID int64 }
	json.Unmarshal([]byte(r.body), &out)
	ctx := context.Background()
	rep, _, _ := a.Store.GetReply(ctx, out.ID)
	readers := digestReaders(t, a, rep.DigestID)
	if len(readers) < 2 {
		t.Fatalf("digest %d carried %d letters, want at least 2", rep.DigestID, len(readers))
	}

	c := signIn(t, base, adminPassword)
	page := c.get("/admin/replies?campaign=save-the-park")
	if !strings.Contains(page, "Hello Twilio SendGrid!") || !strings.Contains(page, fmt.Sprintf(`action="/admin/replies/%d/publish"`, out.ID)) {
		t.Fatalf("the Replies page does not offer the digest's reply for publication:\n%s", page)
	}
	c.post(fmt.Sprintf("/admin/replies/%d/publish", out.ID), url.Values{}, "/admin/replies?campaign=save-the-park")
	c.post(fmt.Sprintf("/admin/replies/%d/publish", out.ID), url.Values{}, "/admin/replies?campaign=save-the-park") // twice: once only

	consented := 0
	for _, d := range readers {
		if d.consent {
			consented++
		}
	}
	mails := waitMails(t, fake, consented, func(m sgfake.Mail) bool { return strings.Contains(m.Subject, "answered the letters") })
	time.Sleep(6 * time.Second)
	again := waitMails(t, fake, consented, func(m sgfake.Mail) bool { return strings.Contains(m.Subject, "answered the letters") })
	if len(again) != consented {
		t.Fatalf("%d publication mails, want %d (one per consenting writer, once)", len(again), consented)
	}
	for _, m := range mails {
		link := linkRe.FindString(body(m))
		if r := call(t, "GET", local(base, link), "", "", false); !strings.Contains(r.body, "answered the letters sent together") ||
			!strings.Contains(r.body, "Hello Twilio SendGrid!") {
			t.Fatalf("the receipt of %s does not show the published reply", to(m))
		}
	}
}

type reader struct {
	id      int64
	consent bool
}

func digestReaders(t *testing.T, a *app.App, digestID int64) []reader {
	t.Helper()
	ids, err := a.Store.DigestMessages(context.Background(), digestID)
	if err != nil {
		t.Fatal(err)
	}
	var out []reader
	for _, id := range ids {
		m, err := a.Store.Message(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, reader{id: id, consent: strings.HasPrefix(m.SupporterEmail, "w0") || strings.HasPrefix(m.SupporterEmail, "w2")})
	}
	return out
}

// get reads a console page.
func (c *console) get(path string) string {
	c.t.Helper()
	resp, err := c.c.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

// TestFollowupOnceAcrossRestartAndAnswer: the follow-up goes once to each
// supporter, not once per target, and not again after a restart; a mail
// scanner's GET of an answer link records nothing; the POST of the page's
// button records the answer, which the receipt then shows.
func TestFollowupOnceAcrossRestartAndAnswer(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	db := t.TempDir() + "/outcry.db"
	vars := replyVars(fake, map[string]string{"OUTCRY_DELIVERY": "individual", "OUTCRY_DB": db})
	isFollowup := func(m sgfake.Mail) bool { return strings.HasPrefix(m.Subject, "Did they reply?") }
	var link string
	t.Run("first run", func(t *testing.T) {
		a, base := start(t, vars)
		camp := strings.Replace(relayCampaign("save-the-park", "individual"), `["ted-sarandos"]`, `["ted-sarandos","greg-peters"]`, 1)
		if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", camp, true); r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
		f := waitMails(t, fake, 1, isFollowup)[0]
		if to(f) != "ann@example.org" || !strings.Contains(body(f), "Did you get a reply from Ted Sarandos?") ||
			!strings.Contains(body(f), "Did you get a reply from Greg Peters?") {
			t.Fatalf("follow-up to %s:\n%s", to(f), body(f))
		}
		link = regexp.MustCompile(`http://\S+/followup\?a=yes&t=\d+\.ted-sarandos\.\S+`).FindString(body(f))
		if !strings.Contains(link, "a=yes") {
			t.Fatalf("no answer link in:\n%s", body(f))
		}
		if n, err := a.Followups.Tick(context.Background()); err != nil || n != 0 {
			t.Fatalf("a second tick queued %d (%v)", n, err)
		}
	})
	t.Run("after a restart", func(t *testing.T) {
		a, base := start(t, vars)
		if n, err := a.Followups.Tick(context.Background()); err != nil || n != 0 {
			t.Fatalf("after a restart a tick queued %d (%v)", n, err)
		}
		// A scanner opens the link: a page with a button, nothing recorded.
		u := local(base, link)
		r := call(t, "GET", u, "", "", false)
		if r.status != 200 || !strings.Contains(r.body, `value="yes" checked`) || !strings.Contains(r.body, "Record my answer") {
			t.Fatalf("GET %s: %d\n%s", u, r.status, r.body)
		}
		call(t, "HEAD", u, "", "", false)
		pu, _ := url.Parse(u)
		tok := pu.Query().Get("t")
		sid, _, err := a.Followups.ParseToken(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := a.Store.FollowupAnswers(context.Background(), sid); len(got) != 0 {
			t.Fatalf("a GET recorded %v", got)
		}
		// The button: the form's own fields, posted back.
		stamp := regexp.MustCompile(`name="stamp" value="([^"]+)"`).FindStringSubmatch(r.body)
		if stamp == nil {
			t.Fatal("no stamp on the page")
		}
		form := url.Values{"t": {tok}, "stamp": {stamp[1]}, "answer": {"yes"}}
		if r := call(t, "POST", base+pu.Path, "application/x-www-form-urlencoded", form.Encode(), false); r.status != 200 ||
			!strings.Contains(r.body, "your answer is recorded") {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
		got, _ := a.Store.FollowupAnswers(context.Background(), sid)
		if got["ted-sarandos"] != store.AnswerYes || len(got) != 1 {
			t.Fatalf("answers %v", got)
		}
		// Without the page's stamp nothing is recorded either.
		form = url.Values{"t": {a.Followups.Token(sid, "greg-peters")}, "answer": {"no"}}
		call(t, "POST", base+pu.Path, "application/x-www-form-urlencoded", form.Encode(), false)
		if got, _ := a.Store.FollowupAnswers(context.Background(), sid); len(got) != 1 {
			t.Fatalf("a POST without the page's stamp recorded: %v", got)
		}
		receipt := local(base, a.Followups.ReceiptLink("save-the-park", sid))
		if r := call(t, "GET", receipt, "", "", false); !strings.Contains(r.body, "They replied") {
			t.Fatalf("the receipt does not show the answer")
		}
		// The campaign page (show_responses) counts it.
		if r := call(t, "GET", base+"/c/save-the-park", "", "", false); !strings.Contains(r.body, "Ted Sarandos replied to 1 of 1 supporters who told us") {
			t.Fatalf("the campaign page does not show the response figure")
		}
	})
	time.Sleep(6 * time.Second) // the drain's idle wait: anything queued twice would be sent by now
	if n := len(waitMails(t, fake, 1, isFollowup)); n != 1 {
		t.Fatalf("%d follow-ups sent, want 1", n)
	}
}

// TestFollowupOnceAcrossInstancesPostgres: two instances share one
// PostgreSQL database and both look for due follow-ups as fast as they
// can, at the same time as the elected sender's own loop: the supporter
// gets one follow-up.
func TestFollowupOnceAcrossInstancesPostgres(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	vars := replyVars(fake, map[string]string{"OUTCRY_DELIVERY": "individual", "OUTCRY_DB": pgtest.URL(t)})
	a, aURL := start(t, vars)
	b, _ := start(t, vars)
	if r := call(t, "POST", aURL+"/admin/api/campaigns", "application/json", relayCampaign("save-the-park", "individual"), true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", aURL+"/api/v1/campaigns/save-the-park/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
		t.Fatalf("letter: %d %s", r.status, r.body)
	}
	waitMails(t, fake, 1, func(m sgfake.Mail) bool { return to(m) == "ted.sarandos@example.com" })
	// b follows the campaign created on a within seconds.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, ok := b.Campaigns.Get("save-the-park"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b does not know the campaign")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var queued [2]int
	done := make(chan struct{})
	stop := time.Now().Add(20 * time.Second)
	for i, x := range []*app.App{a, b} {
		go func() {
			defer func() { done <- struct{}{} }()
			for time.Now().Before(stop) {
				n, err := x.Followups.Tick(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				queued[i] += n
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	<-done
	<-done
	if queued[0]+queued[1] > 1 {
		t.Fatalf("the instances queued %d follow-ups between them", queued[0]+queued[1])
	}
	isFollowup := func(m sgfake.Mail) bool { return strings.HasPrefix(m.Subject, "Did they reply?") }
	waitMails(t, fake, 1, isFollowup)
	time.Sleep(6 * time.Second)
	if n := len(waitMails(t, fake, 1, isFollowup)); n != 1 {
		t.Fatalf("%d follow-ups sent, want 1", n)
	}
}
