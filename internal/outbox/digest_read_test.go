package outbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	outcry "github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/similar"
	"github.com/outcry/outcry/internal/store"
)

// Digests of letters that get read (issue 24): near-duplicates grouped
// with the campaign's letter, and a size bound counted as the JSON sent.

func bundledCampaign(t *testing.T) *campaign.Campaign {
	t.Helper()
	b, err := outcry.Bundled("campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Parse("campaign.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func digestLetter(i int, body string, sim *float64) store.DigestLetter {
	return store.DigestLetter{MessageID: int64(i + 1), Similarity: sim, Copy: store.Copy{Subject: "S", Body: body,
		FirstName: "Writer", LastName: fmt.Sprint(i), Postcode: fmt.Sprintf("P%03d", i),
		TargetName: "Ann Minister", Title: "Minister", Salutation: "Minister Ann"}}
}

// The example: 200 letters, 150 unchanged, 30 with a word or two
// changed, 20 rewritten, make a digest with the campaign's letter once,
// 180 signers (30 with the sentences they changed) and 20 letters in full.
func TestDigestGroupsNearDuplicates(t *testing.T) {
	r, err := NewDigestRenderer(outcry.Templates(""))
	if err != nil {
		t.Fatal(err)
	}
	camp := bundledCampaign(t)
	body := camp.Letter.Body
	words := strings.Fields(body)
	var letters []store.DigestLetter
	for i := range 200 {
		var text string
		switch {
		case i < 150:
			text = body
		case i < 180:
			// One or two words changed, in different places.
			text = strings.Replace(body, words[10+i-150], "elephant", 1)
			if i%2 == 0 {
				text = strings.Replace(text, words[len(words)-15], "giraffe", 1)
			}
		default:
			text = fmt.Sprintf("Letter %d in my own words: I have watched your service for years and this series made me cancel it. Please take it down.", i)
		}
		var sim *float64
		if i%3 == 0 { // some measured when written, some not
			v := similar.Of(body, text)
			sim = &v
		}
		letters = append(letters, digestLetter(i, text, sim))
	}
	info := CampaignInfo{Title: camp.Title, Subject: camp.Letter.Subject, Body: body, Organizer: "Org"}
	const link = "https://outcry.test/c/netflix-baby/for/tok"
	subject, text, err := r.RenderFor(info, store.ClaimedDigest{Letters: letters}, link)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "200 people wrote to you about "+camp.Title {
		t.Errorf("subject %q", subject)
	}
	firstLine := strings.SplitN(strings.TrimSpace(body), "\n", 2)[0]
	if n := strings.Count(text, firstLine); n != 1 {
		t.Errorf("the campaign's letter appears %d times, want once", n)
	}
	if !strings.Contains(text, "The following 180 people sent this letter:") {
		t.Error("the digest does not say 180 people sent the campaign's letter")
	}
	if n := len(regexp.MustCompile(`(?m)^- Writer \d+, P\d{3}$`).FindAllString(text, -1)); n != 180 {
		t.Errorf("%d signers listed, want 180", n)
	}
	// The 30 who changed words have their changed sentences under their
	// names; the 150 others have none.
	withAdded := regexp.MustCompile(`(?m)^- Writer \d+, P\d{3}\n    > `).FindAllString(text, -1)
	if len(withAdded) != 30 {
		t.Errorf("%d signers with added sentences, want 30", len(withAdded))
	}
	if n := strings.Count(text, "elephant"); n != 30 {
		t.Errorf("the changed word appears %d times, want 30 (once under each of its writers)", n)
	}
	if n := len(regexp.MustCompile(`(?m)^From Writer \d+`).FindAllString(text, -1)); n != 20 {
		t.Errorf("%d letters in full, want 20", n)
	}
	if !strings.Contains(text, "20 wrote their own words, shown in full, and 180 signed the campaign's letter") {
		t.Error("the heading does not count the two kinds")
	}
	if !strings.Contains(text, link) {
		t.Error("the digest does not link to the reading page")
	}
	if strings.Contains(text, "more letters") {
		t.Error("a small digest was cut")
	}
}

// maxLetter is a letter of the greatest length the form takes (5,000
// characters) whose JSON is as long as it can be: '<', '>' and '&' are
// escaped by encoding/json to six bytes each, as sendgrid-go sends them.
func maxLetter(i int) string {
	head := fmt.Sprintf("Letter %d. ", i)
	return head + strings.Repeat("<>&\"", (letter.MaxBody-len(head))/4)
}

// An oversized digest is cut: it stays under OUTCRY_DIGEST_MAX_BYTES, says
// how many letters are not shown and where to read them, and still counts
// every letter.
func TestOversizedDigestIsCutWithItsLink(t *testing.T) {
	r, err := NewDigestRenderer(outcry.Templates(""))
	if err != nil {
		t.Fatal(err)
	}
	r.MaxBytes = 200_000
	var letters []store.DigestLetter
	for i := range 300 {
		letters = append(letters, digestLetter(i, maxLetter(i), nil))
	}
	info := CampaignInfo{Title: "Save the bees", Subject: "Save the bees", Body: "Please ban the pesticides.", Organizer: "Org"}
	const link = "https://outcry.test/c/bees/for/tok"
	subject, text, err := r.RenderFor(info, store.ClaimedDigest{Letters: letters}, link)
	if err != nil {
		t.Fatal(err)
	}
	if size := jsonLen(subject) + jsonLen(text) + DigestEnvelope; size > r.MaxBytes {
		t.Fatalf("digest of %d bytes as JSON, over the bound %d", size, r.MaxBytes)
	}
	if subject != "300 people wrote to you about Save the bees" {
		t.Errorf("subject %q: every letter counts", subject)
	}
	shown := strings.Count(text, "\nFrom Writer ")
	m := regexp.MustCompile(`\.\.\.and (\d+) more letters: read them all at (\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no \"and N more letters\" line:\n%s", text[len(text)-500:])
	}
	if m[2] != link {
		t.Errorf("more letters at %q, want %q", m[2], link)
	}
	if more := m[1]; fmt.Sprint(300-shown) != more || shown == 0 {
		t.Errorf("%d shown and %s more, want 300 in all", shown, more)
	}
	// Without a link (revoked), it still says how many are not shown.
	_, text, _ = r.RenderFor(info, store.ClaimedDigest{Letters: letters}, "")
	if !regexp.MustCompile(`\.\.\.and \d+ more letters, not shown`).MatchString(text) {
		t.Error("without a link the digest does not count the letters it does not show")
	}
}

// Issue 27 item 4: a digest's request stays under SendGrid's 30 MB and
// under OUTCRY_DIGEST_MAX_BYTES, counted as the JSON sent. 2,000 letters
// of maximum length go through the real sendgrid-go client to the fake,
// which answers 413 over 30 MB as SendGrid does.
func TestDigestRequestNeverOverTheBound(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 maximum-length letters: not in -short")
	}
	fake := sgfake.New()
	defer fake.Close()
	mailer := delivery.NewSendGrid(delivery.SendGridConfig{APIKey: "SG.test", BaseURL: fake.URL(), FromEmail: "team@outcry.test",
		FromName: "outcry", Timeout: time.Minute})
	var letters []store.DigestLetter
	for i := range 2000 {
		letters = append(letters, digestLetter(i, maxLetter(i), nil))
	}
	info := CampaignInfo{Title: strings.Repeat("T<", 100), Subject: strings.Repeat("S&", 100), Body: "Please ban the pesticides.",
		Organizer: strings.Repeat("O\"", 100)}
	for _, bound := range []int{DefaultDigestMaxBytes, 29_000_000} {
		r, err := NewDigestRenderer(outcry.Templates(""))
		if err != nil {
			t.Fatal(err)
		}
		r.MaxBytes = bound
		d := store.ClaimedDigest{Letters: letters}
		subject, text, err := r.RenderFor(info, d, "https://outcry.test/c/bees/for/"+strings.Repeat("x", 150))
		if err != nil {
			t.Fatal(err)
		}
		m := delivery.Message{ID: 1, DigestID: 1, PublicID: "d" + strings.Repeat("0", 24), Campaign: "bees",
			TargetID: "t1", TargetName: strings.Repeat("N<", 100), TargetEmail: "minister@gov.test",
			SupporterName: info.Organizer, SupporterEmail: "team@bees.test", Subject: subject, Body: text, Letters: len(letters)}
		if _, err := mailer.Send(context.Background(), m); err != nil {
			t.Fatalf("bound %d: %v", bound, err)
		}
		reqs := fake.Requests()
		got := len(reqs[len(reqs)-1].Body)
		if got > bound || got > sgfake.MaxRequestBytes {
			t.Fatalf("bound %d: a request of %d bytes", bound, got)
		}
		if !strings.Contains(text, "2000 people have written") || !strings.Contains(text, "more letters: read them all at") {
			t.Errorf("bound %d: the digest does not count and link every letter", bound)
		}
		t.Logf("bound %d: request of %d bytes, %d letters shown in full", bound, got, strings.Count(text, "\nFrom Writer "))
	}
}
