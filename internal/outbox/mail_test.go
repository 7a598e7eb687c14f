package outbox

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/store"
)

func mailStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.DB(t, filepath.Join(t.TempDir(), "mail.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func fakeSendGrid(t *testing.T) (*sgfake.Server, delivery.Mailer) {
	t.Helper()
	fake := sgfake.New()
	t.Cleanup(fake.Close)
	fake.SetRecord(true)
	return fake, delivery.NewSendGrid(delivery.SendGridConfig{APIKey: "SG.test", BaseURL: fake.URL(),
		FromEmail: "outcry@example.org", FromName: "Outcry"})
}

// A supporter mail goes out once, through the real SendGrid client, with
// its headers, and is recorded as sent; a second Enqueue with the same key
// sends nothing more.
func TestMailDrainSendsOnce(t *testing.T) {
	ctx := context.Background()
	st := mailStore(t)
	fake, mailer := fakeSendGrid(t)
	m := Mail{Campaign: "bees", SupporterID: 3, Kind: "reply", ToEmail: "ann@example.org", ToName: "Ann Lee",
		FromName: "Bee Friends", ReplyTo: "bees@example.org", Subject: "Your MP replied", Body: "She wrote back.",
		Headers: map[string]string{"List-Unsubscribe": "<https://example.org/u/3>"}, DedupeKey: "reply:9:3"}
	id, created, err := Enqueue(ctx, st, m)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if _, created, err := Enqueue(ctx, st, m); err != nil || created {
		t.Fatalf("second enqueue: created %v, %v", created, err)
	}
	if _, _, err := Enqueue(ctx, st, Mail{Campaign: "bees", Kind: "reply"}); err == nil {
		t.Fatal("a mail without an address was queued")
	}
	d := NewMailDrain(st, mailer, MailOptions{Rate: 1000})
	if n, err := d.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	if n, err := d.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("second drain: %d, %v", n, err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the fake received %d requests, want 1", len(reqs))
	}
	got := reqs[0].Mail
	p := got.Personalizations[0].To[0]
	if p.Email != "ann@example.org" || p.Name != "Ann Lee" || got.Subject != "Your MP replied" || got.Content[0].Value != "She wrote back." ||
		got.Headers["List-Unsubscribe"] != "<https://example.org/u/3>" || got.ReplyTo.Email != "bees@example.org" ||
		got.From.Name != "Bee Friends via Outcry" || got.Categories[0] != "bees" {
		t.Fatalf("sent %+v", got)
	}
	if s, n, _, err := st.MailState(ctx, id); err != nil || s != sendlog.Sent || n != 1 {
		t.Fatalf("state %s %d %v", s, n, err)
	}
}

// A temporary failure is retried later, bounded by MaxAttempts; a permanent
// one fails the mail at once; a process that does not send takes nothing.
func TestMailDrainRetriesBounded(t *testing.T) {
	ctx := context.Background()
	st := mailStore(t)
	fake, mailer := fakeSendGrid(t)
	ready := false
	d := NewMailDrain(st, mailer, MailOptions{Rate: 1000, MaxAttempts: 2, Ready: func() bool { return ready }})
	d.opt.BackoffBase, d.opt.BackoffMax = 1, 1 // due again at once
	tmp, _, err := Enqueue(ctx, st, Mail{Campaign: "bees", Kind: "update", ToEmail: "a@example.org", Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d.Drain(ctx); err != nil || n != 0 || fake.Count() != 0 {
		t.Fatalf("a process that does not send drained %d (%v), fake saw %d", n, err, fake.Count())
	}
	ready = true
	fake.Script(sgfake.Response{Status: 503}, sgfake.Response{Status: 503})
	for range 2 {
		if _, err := d.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s, n, e, err := st.MailState(ctx, tmp); err != nil || s != sendlog.Failed || n != 2 || e == "" {
		t.Fatalf("after two 503s: %s %d %q %v", s, n, e, err)
	}
	perm, _, err := Enqueue(ctx, st, Mail{Campaign: "bees", Kind: "update", ToEmail: "b@example.org", Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	fake.Script(sgfake.Response{Status: 400, Body: sgfake.ErrorBody("bad", "to")})
	if _, err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if s, n, _, err := st.MailState(ctx, perm); err != nil || s != sendlog.Failed || n != 1 {
		t.Fatalf("after a 400: %s %d %v", s, n, err)
	}
	if fake.Count() != 3 {
		t.Fatalf("the fake saw %d requests, want 3", fake.Count())
	}
}
