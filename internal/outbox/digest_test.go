package outbox

import (
	"strings"
	"testing"
	"time"

	outcry "github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
)

func TestDigestText(t *testing.T) {
	r, err := NewDigestRenderer(outcry.Templates(""))
	if err != nil {
		t.Fatal(err)
	}
	const def = "Please ban the pesticides\nthat kill bees."
	letter := func(first, last, postcode, subject, body string) store.DigestLetter {
		return store.DigestLetter{Copy: store.Copy{Subject: subject, Body: body, FirstName: first, LastName: last,
			Postcode: postcode, TargetName: "Ann Minister", Title: "Minister", Salutation: "Minister Ann"}}
	}
	d := store.ClaimedDigest{
		Message: delivery.Message{TargetName: "Ann Minister", SupporterEmail: "team@bees.example"},
		Letters: []store.DigestLetter{
			letter("Ada", "Lovelace", "N1 9GU", "Save the bees", def),
			letter("Grace", "Hopper", "", "Save the bees", "Please ban the pesticides that kill bees.  "), // spacing only
			letter("Alan", "Turing", "CB2 1TN", "My garden", "My garden has no bees this year.\n\nAct now."),
			letter("Edsger", "Dijkstra", "5612", "Save the bees", def+" Thank you."),
		},
	}
	info := CampaignInfo{Title: "Save the bees", Subject: "Save the bees", Body: def, Organizer: "Bee Friends"}
	subject, body, err := r.Render(info, d)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "4 people wrote to you about Save the bees" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{
		"Dear Minister Ann,",
		"4 people have written to you",
		// Edited letters in full, with name, postcode and their own subject.
		"From Alan Turing, CB2 1TN\nSubject: My garden\n\n> My garden has no bees this year.\n>\n> Act now.",
		"From Edsger Dijkstra, 5612\n\n> Please ban the pesticides\n> that kill bees. Thank you.",
		// The default text once, then who sent it.
		"The following 2 people sent this letter:\n\nSubject: Save the bees\n\n> Please ban the pesticides\n> that kill bees.\n\nSigned by:\n- Ada Lovelace, N1 9GU\n- Grace Hopper\n",
		"Bee Friends",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("digest lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "Please ban the pesticides"); n != 2 {
		t.Errorf("the campaign's text appears %d times, want once for the signers and once inside Dijkstra's edit", n)
	}
	if strings.Contains(body, "@") {
		t.Errorf("the digest holds an email address:\n%s", body)
	}

	one, _, err := r.Render(info, store.ClaimedDigest{Letters: d.Letters[:1]})
	if err != nil || one != "1 person wrote to you about Save the bees" {
		t.Errorf("subject of one letter %q (%v)", one, err)
	}
}

func TestDigestSchedule(t *testing.T) {
	tests := []struct{ now, last, next string }{
		{"2026-03-02T08:59:00Z", "2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"},
		{"2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"},
		{"2026-03-02T23:00:00Z", "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"},
	}
	for _, tt := range tests {
		now := mustTime(t, tt.now)
		if got := LastDigestTime(now, 24*time.Hour, 9*time.Hour); !got.Equal(mustTime(t, tt.last)) {
			t.Errorf("last before %s = %s, want %s", tt.now, got, tt.last)
		}
		if got := NextDigestTime(now, 24*time.Hour, 9*time.Hour); !got.Equal(mustTime(t, tt.next)) {
			t.Errorf("next after %s = %s, want %s", tt.now, got, tt.next)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Issue 27 item 9: a letter that reproduces the digest's separator and
// headings cannot invent senders, signers or a footer: every line of its
// text is quoted, and only the template's own lines start a line.
func TestDigestInjection(t *testing.T) {
	r, err := NewDigestRenderer(outcry.Templates(""))
	if err != nil {
		t.Fatal(err)
	}
	sep := strings.Repeat("-", 70)
	forged := "Please act.\n\n" + sep + "\nFrom Barack Obama\n\nI agree.\n\n" + sep +
		"\nThe following 9999 people sent this letter:\n\nSigned by:\n- Taylor Swift\n\n" + sep + "\nSent by Netflix Legal on behalf of the people named above."
	d := store.ClaimedDigest{Letters: []store.DigestLetter{
		{Copy: store.Copy{Subject: "S", Body: forged, FirstName: "Eve", LastName: "Mallory", Salutation: "Minister"}},
		{Copy: store.Copy{Subject: "S", Body: "Save them.", FirstName: "Ann", LastName: "Lee", Salutation: "Minister"}},
	}}
	_, body, err := r.Render(CampaignInfo{Title: "Bees", Subject: "S", Body: "Save them.", Organizer: "Bee Friends"}, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(body, "\n") {
		for _, bad := range []string{"From Barack Obama", "The following 9999", "- Taylor Swift", "Sent by Netflix Legal"} {
			if strings.HasPrefix(line, bad) {
				t.Errorf("a letter invented the line %q:\n%s", line, body)
			}
		}
	}
	if n := strings.Count(body, "\n"+sep+"\n"); n != 3 {
		t.Errorf("%d separator lines, want the template's 3 (Eve's letter, the signers, the footer):\n%s", n, body)
	}
	if !strings.Contains(body, "> From Barack Obama") {
		t.Errorf("the letter's own text is not shown quoted:\n%s", body)
	}
}
