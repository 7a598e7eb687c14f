package update

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/store"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Input
		field string // "" valid
	}{
		{"valid", Input{Subject: " We won ", Body: "Thank you.\r\nAll of you."}, ""},
		{"no subject", Input{Subject: "  ", Body: "b"}, "subject"},
		{"no body", Input{Subject: "s", Body: " \n "}, "body"},
		{"two-line subject", Input{Subject: "a\nb", Body: "b"}, "subject"},
		{"long subject", Input{Subject: strings.Repeat("é", MaxSubject+1), Body: "b"}, "subject"},
		{"long body", Input{Subject: "s", Body: strings.Repeat("x", MaxBody+1)}, "body"},
		{"control in body", Input{Subject: "s", Body: "a\x00b"}, "body"},
		{"invalid UTF-8", Input{Subject: "s\xff", Body: "b"}, "subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Check(tc.in)
			var fe FieldErrors
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if out.Subject != "We won" || out.Body != "Thank you.\nAll of you." {
					t.Fatalf("not trimmed: %+v", out)
				}
				return
			}
			if !errors.As(err, &fe) || fe[tc.field] == "" || len(fe) != 1 {
				t.Fatalf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func service() *Service {
	return &Service{Templates: os.DirFS("../../templates"), BaseURL: "https://letters.example", Secret: []byte("secret"),
		ReplyTo: "letters@example.org", ReceiptLink: func(c string, id int64) string { return "https://letters.example/c/" + c + "/receipt/r" }}
}

// The email carries RFC 8058's two headers, and the same link in its text;
// its token names the supporter, and a test email's unsubscribes nobody.
func TestEmailUnsubscribe(t *testing.T) {
	s := service()
	c := &campaign.Campaign{Slug: "save-the-park", Title: "Save the park", Organizer: campaign.Organizer{Name: "Park Friends", Contact: "park@example.org"}}
	m, err := s.Email(c, Input{Subject: "We won", Body: "The council listened."}, store.UpdateRecipient{SupporterID: 42, FirstName: "Ann", LastName: "Lee", Email: "ann@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post %q", m.Headers["List-Unsubscribe-Post"])
	}
	h := m.Headers["List-Unsubscribe"]
	if !strings.HasPrefix(h, "<https://letters.example/c/save-the-park/unsubscribe?t=") || !strings.HasSuffix(h, ">") {
		t.Fatalf("List-Unsubscribe %q", h)
	}
	link := strings.Trim(h, "<>")
	if !strings.Contains(m.Body, link) || !strings.Contains(m.Body, "Hello Ann,") || !strings.Contains(m.Body, "The council listened.") ||
		!strings.Contains(m.Body, "Park Friends") || !strings.Contains(m.Body, "/receipt/r") {
		t.Fatalf("body:\n%s", m.Body)
	}
	if m.Subject != "We won" || m.ReplyTo != "park@example.org" || m.FromName != "Park Friends" || m.ToName != "Ann Lee" {
		t.Fatalf("mail %+v", m)
	}
	u, _ := url.Parse(link)
	if id, err := s.ParseToken(u.Query().Get("t")); err != nil || id != 42 {
		t.Fatalf("token names %d (%v), want 42", id, err)
	}
	if _, err := s.ParseToken(u.Query().Get("t") + "x"); !errors.Is(err, ErrBadLink) {
		t.Fatalf("a changed token: %v", err)
	}
	if _, err := (&Service{Secret: []byte("other")}).ParseToken(u.Query().Get("t")); !errors.Is(err, ErrBadLink) {
		t.Fatalf("another key's token: %v", err)
	}
	// A preview or test: the link unsubscribes nobody, and no receipt.
	pm, err := s.Email(c, Input{Subject: "We won", Body: "b"}, Sample)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(strings.Trim(pm.Headers["List-Unsubscribe"], "<>"))
	if _, err := s.ParseToken(pu.Query().Get("t")); !errors.Is(err, ErrTestLink) {
		t.Fatalf("a test email's token: %v, want ErrTestLink", err)
	}
	if strings.Contains(pm.Body, "/receipt/") {
		t.Fatalf("a test email links a receipt:\n%s", pm.Body)
	}
	// Without an address as the organizer's contact, answers go to OUTCRY_FROM_EMAIL.
	c.Organizer.Contact = "https://park.example"
	if m, _ := s.Email(c, Input{Subject: "s", Body: "b"}, Sample); m.ReplyTo != "letters@example.org" {
		t.Fatalf("Reply-To %q", m.ReplyTo)
	}
}
