package confirm

import (
	"context"
	"errors"
	"fmt"
	"github.com/outcry/outcry/internal/testkit"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
)

type fixture struct {
	st     *store.Store
	svc    *Service
	mail   *testkit.Mailbox
	now    time.Time
	queued int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := testkit.Store(t)
	f := &fixture{st: st, mail: &testkit.Mailbox{}, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	st.SetClock(clock)
	f.svc = &Service{Store: st, Mailer: f.mail, Secret: []byte("k"), TTL: 48 * time.Hour, BaseURL: "https://outcry.test",
		Title: func(string) string { return "Stop it" }, FromName: "Org", ReplyTo: "org@example.com", Now: clock, Queued: func() { f.queued++ }}
	return f
}

func (f *fixture) write(t *testing.T, email string) {
	t.Helper()
	_, _, err := f.st.WriteLetter(context.Background(), store.NewSupporter{Campaign: "c", Email: email, FirstName: "Ann", LastName: "Lee",
		Status: store.SupporterUnconfirmed, Subject: "s", Body: "b"}, []string{"t1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Request(context.Background(), "c", email); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) lastLink(t *testing.T) string {
	t.Helper()
	if len(f.mail.Sent()) == 0 {
		t.Fatal("no confirmation email")
	}
	body := f.mail.Sent()[len(f.mail.Sent())-1].Body
	i := strings.Index(body, "https://outcry.test/c/c/confirm?t=")
	if i < 0 {
		t.Fatalf("no link in %q", body)
	}
	return strings.Fields(body[i:])[0]
}

func linkToken(link string) string { return link[strings.Index(link, "t=")+2:] }

func TestConfirmationLinks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.write(t, "ann@example.org")
	m := f.mail.Sent()[0]
	if m.TargetEmail != "ann@example.org" || strings.ContainsAny(m.Subject, "\r\n") || !strings.Contains(m.Body, "Hello Ann,") {
		t.Fatalf("confirmation email: %+v", m)
	}
	tok := linkToken(f.lastLink(t))
	tampered := []string{
		"", "x", "1.2", "1.2.3.4", strings.Repeat("a", 300),
		strings.Replace(tok, "1.", "2.", 1), // another supporter
		tok[:len(tok)-2] + "AA",             // signature changed
		strings.Split(tok, ".")[0] + ".9999999999." + strings.Split(tok, ".")[2], // expiry pushed out
	}
	for _, bad := range tampered {
		if _, err := f.svc.Confirm(ctx, "c", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Confirm(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if counts, _ := f.st.StatusCounts(ctx, "c"); counts["unconfirmed"] != 1 {
		t.Fatalf("a bad link changed something: %v", counts)
	}
	if _, err := f.svc.Confirm(ctx, "other", tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("a link used on another campaign: %v", err)
	}
	if got, err := f.svc.Confirm(ctx, "c", tok); err != nil || got != Confirmed || f.queued != 1 {
		t.Fatalf("valid link: %v %v (queued %d)", got, err, f.queued)
	}
	if counts, _ := f.st.StatusCounts(ctx, "c"); counts["queued"] != 1 {
		t.Fatalf("after confirmation: %v", counts)
	}
	if got, err := f.svc.Confirm(ctx, "c", tok); err != nil || got != AlreadyConfirmed || f.queued != 1 {
		t.Fatalf("reused link: %v %v", got, err)
	}
	// A confirmed address gets no more emails.
	f.now = f.now.Add(time.Hour)
	f.svc.Request(ctx, "c", "ann@example.org")
	if len(f.mail.Sent()) != 1 {
		t.Fatal("a confirmed address got another confirmation email")
	}
}

func TestExpiredLinkChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.write(t, "ann@example.org")
	tok := linkToken(f.lastLink(t))
	f.now = f.now.Add(48 * time.Hour)
	if _, err := f.svc.Confirm(ctx, "c", tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired link: %v", err)
	}
	if counts, _ := f.st.StatusCounts(ctx, "c"); counts["unconfirmed"] != 1 || f.queued != 0 {
		t.Fatalf("an expired link changed something: %v", counts)
	}
}

func TestResendAtMostEveryTenMinutes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.write(t, "ann@example.org")
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{time.Minute, 1}, {8 * time.Minute, 1}, {time.Minute, 2}, {time.Second, 2}, {10 * time.Minute, 3}} {
		f.now = f.now.Add(step.advance)
		if err := f.svc.Request(ctx, "c", "ann@example.org"); err != nil {
			t.Fatal(err)
		}
		if len(f.mail.Sent()) != step.want {
			t.Fatalf("after %v: %d emails, want %d", step.advance, len(f.mail.Sent()), step.want)
		}
	}
	// Every link sent is valid, and expires with the letter (TTL after writing).
	if got, err := f.svc.Confirm(ctx, "c", linkToken(f.lastLink(t))); err != nil || got != Confirmed {
		t.Fatalf("resent link: %v %v", got, err)
	}
}

func TestFailedSendCanBeRetriedAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mail.Fail(&delivery.SendError{Kind: delivery.Temporary, Msg: "down"})
	f.st.WriteLetter(ctx, store.NewSupporter{Campaign: "c", Email: "ann@example.org", FirstName: "Ann", LastName: "Lee", Status: store.SupporterUnconfirmed}, nil)
	if err := f.svc.Request(ctx, "c", "ann@example.org"); err == nil {
		t.Fatal("a failed send reported no error")
	}
	f.mail.Fail(nil)
	if err := f.svc.Request(ctx, "c", "ann@example.org"); err != nil || len(f.mail.Sent()) != 1 {
		t.Fatalf("retry after a failed send: %v, %d emails", err, len(f.mail.Sent()))
	}
}

// A confirmation email is never dropped: over the rate, or after a failed
// send, the sweep (SendPending) sends it, once.
func TestPendingConfirmationsAreSentBySweep(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.svc.Limiter = rate.NewLimiter(rate.Every(time.Hour), 2) // two at once, then over the rate
	for i := range 4 {
		f.write(t, fmt.Sprintf("s%d@example.org", i))
	}
	if len(f.mail.Sent()) != 2 {
		t.Fatalf("sent in the requests: %d, want 2 (the burst)", len(f.mail.Sent()))
	}
	f.svc.Limiter = rate.NewLimiter(rate.Inf, 1)
	f.mail.Fail(&delivery.SendError{Kind: delivery.Temporary, Msg: "down"})
	if n, err := f.svc.SendPending(ctx); err == nil || n != 0 {
		t.Fatalf("sweep during an outage: %d sent, err %v", n, err)
	}
	f.mail.Fail(nil)
	if n, err := f.svc.SendPending(ctx); err != nil || n != 2 {
		t.Fatalf("sweep: %d sent, err %v; want the 2 left over", n, err)
	}
	if n, _ := f.svc.SendPending(ctx); n != 0 || len(f.mail.Sent()) != 4 {
		t.Fatalf("a second sweep sent %d more; %d emails in all, want 4", n, len(f.mail.Sent()))
	}
}

// The confirmation email's words come from templates/confirm.txt, which an
// organizer may override like the letter.
func TestConfirmationEmailFromTemplate(t *testing.T) {
	f := newFixture(t)
	f.svc.Templates = fstest.MapFS{ConfirmTemplate: {Data: []byte(
		`{{define "subject"}}Bitte bestätigen: {{.Campaign}}{{end}}Hallo {{.FirstName}}, {{.Link}} bis {{.Until}}`)}}
	f.write(t, "ann@example.org")
	m := f.mail.Sent()[0]
	if m.Subject != "Bitte bestätigen: Stop it" || !strings.HasPrefix(m.Body, "Hallo Ann, https://outcry.test/c/c/confirm?t=") ||
		!strings.Contains(m.Body, "bis 3 March 2026 09:00 UTC") {
		t.Fatalf("subject %q body %q", m.Subject, m.Body)
	}
	f.lastLink(t)
}
