package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
)

func testMessage() Message {
	return Message{
		ID:             7,
		PublicID:       "pub-123",
		Campaign:       "save-the-park",
		TargetID:       "mp-1",
		TargetName:     "Jo Bloggs MP",
		TargetEmail:    "jo.bloggs@parliament.example",
		SupporterName:  "Ann Other",
		SupporterEmail: "ann@example.net",
		Subject:        "Please save the park",
		Body:           "Dear Jo,\n\nPlease save the park.\n\nAnn",
	}
}

func newTestSendGrid(t *testing.T, fake *sgfake.Server, mod func(*SendGridConfig)) *SendGrid {
	t.Helper()
	cfg := SendGridConfig{
		APIKey:    "SG.test-key",
		BaseURL:   fake.URL(),
		FromEmail: "letters@outcry.example",
		FromName:  "Outcry",
		Timeout:   2 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	return NewSendGrid(cfg)
}

func onlyMail(t *testing.T, fake *sgfake.Server) sgfake.Recorded {
	t.Helper()
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func TestSendGridBuildsMail(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	sg := newTestSendGrid(t, fake, nil)
	if sg.Name() != "sendgrid" {
		t.Errorf("Name = %q", sg.Name())
	}

	id, err := sg.Send(context.Background(), testMessage())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id == "" {
		t.Error("empty provider id")
	}
	rec := onlyMail(t, fake)
	m := rec.Mail
	if len(m.Personalizations) != 1 || len(m.Personalizations[0].To) != 1 {
		t.Fatalf("personalizations = %+v, want one with one recipient", m.Personalizations)
	}
	if len(m.Content) != 1 {
		t.Fatalf("content = %+v, want one part", m.Content)
	}
	checks := []struct{ name, got, want string }{
		{"authorization", rec.Header.Get("Authorization"), "Bearer SG.test-key"},
		{"from", m.From.Email, "letters@outcry.example"},
		{"from name", m.From.Name, "Ann Other via Outcry"},
		{"reply_to", m.ReplyTo.Email, "ann@example.net"},
		{"reply_to name", m.ReplyTo.Name, "Ann Other"},
		{"to", m.Personalizations[0].To[0].Email, "jo.bloggs@parliament.example"},
		{"to name", m.Personalizations[0].To[0].Name, "Jo Bloggs MP"},
		{"subject", m.Subject, "Please save the park"},
		{"content type", m.Content[0].Type, "text/plain"},
		{"body", m.Content[0].Value, "Dear Jo,\n\nPlease save the park.\n\nAnn"},
		{"categories", strings.Join(m.Categories, "|"), "save-the-park"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(m.CustomArgs) != 1 || m.CustomArgs["outcry_id"] != "pub-123" {
		t.Errorf("custom_args = %v, want only outcry_id", m.CustomArgs)
	}
	if m.MailSettings.SandboxMode.Enable {
		t.Error("sandbox mode on without Sandbox")
	}
	if strings.Contains(string(rec.Body), "sandbox_mode") {
		t.Error("sandbox_mode sent without Sandbox")
	}
	for _, leak := range []string{"mp-1", `"headers"`, "template_id"} {
		if strings.Contains(string(rec.Body), leak) {
			t.Errorf("body contains %q: %s", leak, rec.Body)
		}
	}
}

func TestSendGridSandbox(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	sg := newTestSendGrid(t, fake, func(c *SendGridConfig) { c.Sandbox = true })
	if _, err := sg.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !onlyMail(t, fake).Mail.MailSettings.SandboxMode.Enable {
		t.Error("sandbox_mode.enable not sent")
	}
}

func TestSendGridCleansHeaders(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	sg := newTestSendGrid(t, fake, func(c *SendGridConfig) { c.FromName = "Out\ncry" })
	m := testMessage()
	m.SupporterName = "Ann\r\nBcc: victim@example.com"
	m.TargetName = "Jo\tBloggs\u2028MP\x00"
	m.Subject = "Save\r\n\r\nthe park\u0085now"
	m.SupporterEmail = "ann@example.net\r\n"
	if _, err := sg.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := onlyMail(t, fake).Mail
	checks := []struct{ name, got, want string }{
		{"from name", got.From.Name, "Ann Bcc: victim@example.com via Out cry"},
		{"reply_to name", got.ReplyTo.Name, "Ann Bcc: victim@example.com"},
		{"reply_to", got.ReplyTo.Email, "ann@example.net"},
		{"to name", got.Personalizations[0].To[0].Name, "Jo Bloggs MP"},
		{"subject", got.Subject, "Save the park now"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
		if strings.ContainsAny(c.got, "\r\n") {
			t.Errorf("%s still holds CR or LF: %q", c.name, c.got)
		}
	}
}

// Issue 27 item 8: names SendGrid receives lose ',' ';' '<' '>' '"' (its
// limitations; a supporter named "Ann <ceo@netflix.com>" posed as an
// address in from.name), and the from name is ASCII, as SendGrid requires.
func TestSendGridSafeNames(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	sg := newTestSendGrid(t, fake, nil)
	m := testMessage()
	m.TargetName = `Bloggs, Jo "the MP"`
	m.SupporterName = "Ann <ceo@netflix.com> Lee; Other"
	if _, err := sg.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := onlyMail(t, fake).Mail
	if want := `Bloggs Jo the MP`; got.Personalizations[0].To[0].Name != want {
		t.Errorf("to name = %q, want %q", got.Personalizations[0].To[0].Name, want)
	}
	if want := `Ann ceo@netflix.com Lee Other via Outcry`; got.From.Name != want {
		t.Errorf("from name = %q, want %q", got.From.Name, want)
	}
	if want := `Ann ceo@netflix.com Lee Other`; got.ReplyTo.Name != want {
		t.Errorf("reply_to name = %q, want %q", got.ReplyTo.Name, want)
	}
	for name, want := range map[string]string{
		"Zoë Noël": "Zoe Noel via Outcry",
		"Łukasz 李": "=?utf-8?q?=C5=81ukasz_=E6=9D=8E_via_Outcry?=",
		"José Ｌee": "Jose Lee via Outcry",
	} {
		m.SupporterName = name
		if _, err := sg.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()
		from := reqs[len(reqs)-1].Mail.From.Name
		if from != want {
			t.Errorf("from name of %q = %q, want %q", name, from, want)
		}
		for _, r := range from {
			if r > 0x7e {
				t.Errorf("from name %q is not ASCII", from)
				break
			}
		}
		if to := reqs[len(reqs)-1].Mail.ReplyTo.Name; to != name {
			t.Errorf("reply_to name %q, want %q as typed", to, name)
		}
	}
}

func TestSendGridResponses(t *testing.T) {
	tests := []struct {
		name     string
		resp     sgfake.Response
		timeout  time.Duration
		wantID   string
		wantKind ErrorKind
		status   int
		retryAt  time.Time
		msg      string // substring of the error message
	}{
		{name: "accepted", resp: sgfake.Response{Status: 202, Header: map[string]string{"X-Message-Id": "abc123XYZ"}}, wantID: "abc123XYZ"},
		{name: "bad request", resp: sgfake.Response{Status: 400, Body: sgfake.ErrorBody("The to email does not contain a valid address.", "personalizations.0.to.0.email")},
			wantKind: Permanent, status: 400, msg: "personalizations.0.to.0.email: The to email does not contain a valid address."},
		{name: "bad request, several errors", resp: sgfake.Response{Status: 400, Body: `{"errors":[{"message":"one","field":null},{"message":"two","field":"subject"}]}`},
			wantKind: Permanent, status: 400, msg: "one; subject: two"},
		{name: "bad request, not json", resp: sgfake.Response{Status: 400, Body: strings.Repeat("x", 5000)},
			wantKind: Permanent, status: 400, msg: strings.Repeat("x", 200) + "…"},
		{name: "too large", resp: sgfake.Response{Status: 413, Body: "<html>Request Entity Too Large</html>"},
			wantKind: Permanent, status: 413, msg: "Request Entity Too Large"},
		{name: "unauthorized", resp: sgfake.Response{Status: 401, Body: sgfake.ErrorBody("The provided authorization grant is invalid, expired, or revoked", "")},
			wantKind: Unauthorized, status: 401, msg: "authorization grant is invalid"},
		{name: "forbidden", resp: sgfake.Response{Status: 403, Body: sgfake.ErrorBody("The from address does not match a verified Sender Identity.", "from")},
			wantKind: Unauthorized, status: 403, msg: "verified Sender Identity"},
		{name: "rate limited", resp: sgfake.Response{Status: 429, Header: map[string]string{"X-RateLimit-Reset": "1700000123"}},
			wantKind: RateLimited, status: 429, retryAt: time.Unix(1700000123, 0)},
		{name: "rate limited, no reset", resp: sgfake.Response{Status: 429}, wantKind: RateLimited, status: 429},
		{name: "rate limited, bad reset", resp: sgfake.Response{Status: 429, Header: map[string]string{"X-RateLimit-Reset": "soon"}}, wantKind: RateLimited, status: 429},
		{name: "server error", resp: sgfake.Response{Status: 500, Body: "oops"}, wantKind: Temporary, status: 500, msg: "oops"},
		{name: "bad gateway", resp: sgfake.Response{Status: 502}, wantKind: Temporary, status: 502},
		{name: "odd status", resp: sgfake.Response{Status: 404}, wantKind: Temporary, status: 404},
		{name: "hang past timeout", resp: sgfake.Response{Hang: 5 * time.Second}, timeout: 100 * time.Millisecond, wantKind: Temporary, status: 0, msg: "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := sgfake.New()
			defer fake.Close()
			fake.Script(tt.resp)
			sg := newTestSendGrid(t, fake, func(c *SendGridConfig) {
				if tt.timeout > 0 {
					c.Timeout = tt.timeout
				}
			})

			id, err := sg.Send(context.Background(), testMessage())
			if fake.Count() != 1 {
				t.Errorf("fake received %d requests, want 1 (no library retry)", fake.Count())
			}
			if tt.wantID != "" {
				if err != nil || id != tt.wantID {
					t.Fatalf("Send = %q, %v; want %q, nil", id, err, tt.wantID)
				}
				return
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send error = %v (%T), want *SendError", err, err)
			}
			if id != "" {
				t.Errorf("provider id %q on failure", id)
			}
			if se.Kind != tt.wantKind || se.Status != tt.status {
				t.Errorf("got %v/%d, want %v/%d", se.Kind, se.Status, tt.wantKind, tt.status)
			}
			if !se.RetryAt.Equal(tt.retryAt) {
				t.Errorf("RetryAt = %v, want %v", se.RetryAt, tt.retryAt)
			}
			if !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", se.Msg, tt.msg)
			}
			if len(se.Msg) > 1000 {
				t.Errorf("Msg is %d bytes long", len(se.Msg))
			}
		})
	}
}

func TestSendGridConnectionRefused(t *testing.T) {
	fake := sgfake.New()
	sg := newTestSendGrid(t, fake, nil)
	fake.Close()
	_, err := sg.Send(context.Background(), testMessage())
	if se := Classify(err); err == nil || se.Kind != Temporary || se.Status != 0 {
		t.Fatalf("Send error = %v, want a temporary error without status", err)
	}
}

func TestSendGridContextCancelled(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	fake.Script(sgfake.Response{Hang: 5 * time.Second})
	sg := newTestSendGrid(t, fake, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := sg.Send(ctx, testMessage())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send error = %v, want context.Canceled", err)
	}
	if Classify(err).Kind != Temporary {
		t.Errorf("cancelled send classified %v", Classify(err).Kind)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send returned after %v", d)
	}
}

func TestSendGridDefaults(t *testing.T) {
	sg := NewSendGrid(SendGridConfig{APIKey: "k"})
	if sg.cfg.BaseURL != "https://api.sendgrid.com" || sg.cfg.Timeout != 10*time.Second {
		t.Errorf("defaults = %q, %v", sg.cfg.BaseURL, sg.cfg.Timeout)
	}
	sg = NewSendGrid(SendGridConfig{BaseURL: "http://127.0.0.1:1/"})
	if sg.cfg.BaseURL != "http://127.0.0.1:1" {
		t.Errorf("trailing slash kept: %q", sg.cfg.BaseURL)
	}
}

func TestSendGridConcurrent(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	// A generous timeout: this test checks that concurrent sends do not mix
	// up bodies, not how fast a loaded CI machine answers.
	sg := newTestSendGrid(t, fake, func(c *SendGridConfig) { c.Timeout = 60 * time.Second })
	const n = 200
	errs := make(chan error, n)
	ids := make(chan string, n)
	for i := range n {
		go func() {
			m := testMessage()
			m.PublicID = "pub-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
			id, err := sg.Send(context.Background(), m)
			errs <- err
			ids <- id
		}()
	}
	seen := make(map[string]bool)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		seen[<-ids] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct provider ids, want %d", len(seen), n)
	}
	pubs := make(map[string]bool)
	for _, r := range fake.Requests() {
		pubs[r.Mail.CustomArgs["outcry_id"]] = true
	}
	if len(pubs) != n {
		t.Errorf("fake saw %d distinct outcry_ids, want %d (bodies mixed up?)", len(pubs), n)
	}
}

// BenchmarkSendGridFake measures the mailer and the fake together, which
// bounds the send rate a benchmark against sgfake can show.
func BenchmarkSendGridFake(b *testing.B) {
	fake := sgfake.New()
	defer fake.Close()
	fake.SetRecord(false)
	sg := NewSendGrid(SendGridConfig{APIKey: "k", BaseURL: fake.URL(), FromEmail: "f@example.org", FromName: "Outcry"})
	m := testMessage()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := sg.Send(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(fake.Count())/b.Elapsed().Seconds(), "req/s")
}

// Issue 16, item 7: an invisible or direction-changing character in a name
// or subject stored before the form refused them never reaches the From
// name or the Subject; the joiners some scripts need stay.
func TestCleanNameDropsFormatCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"Ann\u202Egnp.exe Lee":     "Anngnp.exe Lee",
		"L\u200Bee \uFEFFx\u2066y": "Lee xy",
		"\u0645\u06CC\u200C\u0631": "\u0645\u06CC\u200C\u0631",
		"Ann\r\nBcc: x":            "Ann Bcc: x",
	} {
		if got := sgCleanName(in); got != want {
			t.Errorf("sgCleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// No request over SendGrid's 30 MB is ever made (issue 27 item 4): the
// mailer refuses it before sending, as a last guard behind the digest's
// own bound.
func TestSendGridNeverSendsOverThirtyMB(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	// The 6 MB request below takes seconds to encode, send and decode under
	// the race detector on a busy machine: a client timeout of 2 s failed it.
	sg := newTestSendGrid(t, fake, func(c *SendGridConfig) { c.Timeout = time.Minute })
	m := Message{ID: 1, TargetEmail: "t@example.org", Subject: "s", Body: strings.Repeat("<", MaxRequestBytes/6+1)}
	_, err := sg.Send(context.Background(), m)
	var se *SendError
	if !errors.As(err, &se) || se.Kind != Permanent || se.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("err = %v, want a permanent 413", err)
	}
	if fake.Count() != 0 {
		t.Fatalf("the fake received %d requests", fake.Count())
	}
	m.Body = strings.Repeat("<", 1<<20) // 6 MB of JSON: well under the limit
	if _, err := sg.Send(context.Background(), m); err != nil {
		t.Fatalf("a request under the limit: %v", err)
	}
}
