package receipt

import (
	"context"
	"github.com/outcry/outcry/internal/testkit"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/store"
)

func newService(t *testing.T) (*Service, *testkit.Mailbox, *time.Time) {
	t.Helper()
	st := testkit.Store(t)
	for _, email := range []string{"ann@example.org", "bob@example.org"} {
		if _, _, err := st.WriteLetter(context.Background(), store.NewSupporter{Campaign: "c", Email: email, FirstName: "F", LastName: "L",
			Subject: "S", Body: "letter of " + email}, []string{"t"}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	box := &testkit.Mailbox{}
	return &Service{Store: st, Secret: []byte("secret"), BaseURL: "https://x.test", Mailer: box, Templates: outcry.Templates(""),
		Title: func(string) string { return "Title" }, TargetName: func(string) string { return "Tess" }, FromName: "Org", Now: func() time.Time { return now }}, box, &now
}

func TestTokensAndOpen(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	r, err := s.Open(ctx, "c", s.Token(1))
	if err != nil || r.Email != "ann@example.org" {
		t.Fatalf("Open: %v %+v", err, r)
	}
	if s.Link("c", 1) != "https://x.test/c/c/receipt/"+s.Token(1) {
		t.Fatalf("link %s", s.Link("c", 1))
	}
	for _, bad := range []string{"1", s.Token(1) + "x", "0." + strings.Split(s.Token(1), ".")[1], "abc." + strings.Split(s.Token(1), ".")[1]} {
		if _, err := s.Open(ctx, "c", bad); err != ErrInvalid {
			t.Errorf("Open(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	other := &Service{Store: s.Store, Secret: []byte("another")}
	if _, err := other.Open(ctx, "c", s.Token(1)); err != ErrInvalid {
		t.Errorf("a token of another key opened: %v", err)
	}
	if _, err := s.Open(ctx, "d", s.Token(1)); err != ErrGone {
		t.Errorf("another campaign: %v", err)
	}
	if _, err := s.Open(ctx, "c", s.Token(99)); err != ErrGone {
		t.Errorf("nobody: %v", err)
	}
}

func TestEmailCopyLimits(t *testing.T) {
	s, box, now := newService(t)
	ctx := context.Background()
	if err := s.EmailCopy(ctx, "c", s.Token(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.EmailCopy(ctx, "c", s.Token(1)); err != ErrTooSoon {
		t.Fatalf("second copy at once: %v", err)
	}
	if err := s.EmailCopy(ctx, "c", s.Token(2)); err != nil {
		t.Fatalf("another writer is not limited by the first: %v", err)
	}
	*now = now.Add(EmailEvery)
	if err := s.EmailCopy(ctx, "c", s.Token(1)); err != nil {
		t.Fatalf("after EmailEvery: %v", err)
	}
	if len(box.Sent()) != 3 || box.Sent()[0].TargetEmail != "ann@example.org" || box.Sent()[1].TargetEmail != "bob@example.org" ||
		!strings.Contains(box.Sent()[0].Body, "letter of ann@example.org") || strings.Contains(box.Sent()[0].Body, "bob") {
		t.Fatalf("emails: %+v", box.Sent())
	}
	if err := (&Service{Store: s.Store, Secret: s.Secret}).EmailCopy(ctx, "c", s.Token(1)); err != ErrNoMail {
		t.Fatalf("without a mailer: %v", err)
	}
}
