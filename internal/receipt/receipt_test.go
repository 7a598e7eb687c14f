package receipt

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/testkit"
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

// Issue 27 item 2: a copy goes only to an address that proved itself. An
// address nobody confirmed gets one copy, ever, and only on a fresh request
// from the browser that wrote (fresh); a confirmed one gets one per
// EmailEvery. The counts are in the database.
func TestEmailCopyLimits(t *testing.T) {
	s, box, now := newService(t)
	ctx := context.Background()
	st := s.Store.(*store.Store)
	// 1 (Ann) never confirmed her address: a request that is not fresh from
	// her browser — a script that holds only the receipt link — gets nothing.
	if err := s.EmailCopy(ctx, "c", s.Token(1), false); err != ErrNotProven {
		t.Fatalf("copy to an address nobody proved: %v", err)
	}
	if err := s.EmailCopy(ctx, "c", s.Token(1), true); err != nil {
		t.Fatalf("the writer's own fresh request: %v", err)
	}
	for i := 0; i < 3; i++ {
		*now = now.Add(EmailEvery)
		if err := s.EmailCopy(ctx, "c", s.Token(1), true); err != ErrNotProven {
			t.Fatalf("a second copy to an unconfirmed address: %v", err)
		}
	}
	// Another service (another instance) counts the same copies.
	other := &Service{Store: s.Store, Secret: s.Secret, BaseURL: s.BaseURL, Mailer: box, Templates: s.Templates, Now: s.Now}
	if err := other.EmailCopy(ctx, "c", s.Token(1), true); err != ErrNotProven {
		t.Fatalf("another instance sent a second copy: %v", err)
	}
	// 3 (Cy) confirmed: a copy per EmailEvery.
	if _, _, err := st.WriteLetter(ctx, store.NewSupporter{Campaign: "c", Email: "cy@example.org", FirstName: "F", LastName: "L",
		Subject: "S", Body: "letter of cy", Status: store.SupporterUnconfirmed}, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConfirmSupporter(ctx, "c", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.EmailCopy(ctx, "c", s.Token(3), false); err != nil {
		t.Fatal(err)
	}
	if err := s.EmailCopy(ctx, "c", s.Token(3), false); err != ErrTooSoon {
		t.Fatalf("second copy at once: %v", err)
	}
	*now = now.Add(EmailEvery)
	if err := s.EmailCopy(ctx, "c", s.Token(3), false); err != nil {
		t.Fatalf("after EmailEvery: %v", err)
	}
	if len(box.Sent()) != 3 || box.Sent()[0].TargetEmail != "ann@example.org" || box.Sent()[1].TargetEmail != "cy@example.org" ||
		!strings.Contains(box.Sent()[0].Body, "letter of ann@example.org") || strings.Contains(box.Sent()[0].Body, "bob") {
		t.Fatalf("emails: %+v", box.Sent())
	}
	if err := (&Service{Store: s.Store, Secret: s.Secret}).EmailCopy(ctx, "c", s.Token(1), true); err != ErrNoMail {
		t.Fatalf("without a mailer: %v", err)
	}
}

// With OUTCRY_CONFIRM=on an unconfirmed letter's writer gets no copy, even
// from their own browser; and the site's copies a minute are bounded.
func TestEmailCopyConfirmOnAndBudget(t *testing.T) {
	s, box, now := newService(t)
	ctx := context.Background()
	st := s.Store.(*store.Store)
	if _, _, err := st.WriteLetter(ctx, store.NewSupporter{Campaign: "c", Email: "dan@example.org", FirstName: "F", LastName: "L",
		Subject: "S", Body: "B", Status: store.SupporterUnconfirmed}, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	s.ConfirmOn = true
	if err := s.EmailCopy(ctx, "c", s.Token(3), true); err != ErrNotProven {
		t.Fatalf("copy of an unconfirmed letter with confirmation on: %v", err)
	}
	s.ConfirmOn = false
	s.Limiter = rate.NewLimiter(rate.Inf, 0)
	*now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for i := 0; i < CopiesPerMinute+5; i++ {
		if _, _, err := st.WriteLetter(ctx, store.NewSupporter{Campaign: "c", Email: fmt.Sprintf("w%d@example.org", i), FirstName: "F", LastName: "L",
			Subject: "S", Body: "B"}, []string{"t"}); err != nil {
			t.Fatal(err)
		}
	}
	var busy int
	for id := int64(4); id < 4+CopiesPerMinute+5; id++ {
		switch err := s.EmailCopy(ctx, "c", s.Token(id), true); err {
		case nil:
		case ErrBusy:
			busy++
		default:
			t.Fatal(err)
		}
	}
	if busy != 5 || len(box.Sent()) != CopiesPerMinute {
		t.Fatalf("%d copies in a minute, %d refused; want %d and 5", len(box.Sent()), busy, CopiesPerMinute)
	}
	// A refused writer was not counted: they may ask the next minute.
	*now = now.Add(time.Minute)
	if err := s.EmailCopy(ctx, "c", s.Token(4+CopiesPerMinute), true); err != nil {
		t.Fatalf("next minute: %v", err)
	}
}
