package admin

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/receipt"
	"github.com/outcry/outcry/internal/reply"
	"github.com/outcry/outcry/internal/store"
)

// withEmails gives the console the digest policy and the supporter
// emails' services, built as internal/app builds them.
func withEmails(t *testing.T) opts {
	return func(d *Deps) {
		tmpl := os.DirFS("../../templates")
		dr, err := outbox.NewDigestRenderer(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		campaigns := d.Campaigns
		d.Delivery = &outbox.Policy{Mode: delivery.Digest, Max: 500, ReplyTo: "letters@campaign.org", Digests: dr,
			Campaign: func(slug string) (outbox.CampaignInfo, bool) {
				c, ok := campaigns.Get(slug)
				if !ok {
					return outbox.CampaignInfo{}, false
				}
				return outbox.CampaignInfo{Title: c.Title, Subject: c.Letter.Subject, Body: c.Letter.Body, Organizer: c.Organizer.Name,
					Delivery: outbox.Delivery{Mode: delivery.Mode(c.Delivery)}}, true
			}}
		d.FromEmail, d.FromName = "letters@campaign.org", "Stop Baby"
		secret := []byte("preview test secret")
		rec := &receipt.Service{Templates: tmpl, Secret: secret, BaseURL: "http://outcry.test", FromName: "The organizer", ReplyTo: "org@campaign.org",
			Title: campaigns.Title}
		d.Receipts = rec
		d.Followups = &reply.Followups{Templates: tmpl, BaseURL: "http://outcry.test", Secret: secret, ReceiptLink: rec.Link}
		d.Confirm = &confirm.Service{Templates: tmpl, Secret: secret, TTL: 24 * time.Hour, BaseURL: "http://outcry.test",
			Title: campaigns.Title, FromName: "The organizer", ReplyTo: "org@campaign.org"}
	}
}

// The previews page shows, for a chosen target, the letter as it receives
// it, the digest it would receive now from the real queue, and the
// supporter's emails from their templates; it sends, claims and writes
// nothing (issue 26).
func TestPreviewPageShowsEveryEmailAndChangesNothing(t *testing.T) {
	e := newEnv(t, withEmails(t))
	e.login()
	ctx := context.Background()
	for i := range 2 {
		e.sign(fmt.Sprintf("writer%d@example.org", i))
	}
	before, err := e.store.StatusCounts(ctx, e.camp.Slug)
	if err != nil {
		t.Fatal(err)
	}
	r := e.get("/admin/preview?target=reed-hastings")
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	for _, want := range []string{
		// The letter, through the letter template, with the salutation.
		`<h2 id="letter-h">Letter to Reed Hastings</h2>`,
		"Dear Mr. Hastings,",
		"<dt>From</dt><dd>Alex Sample via Stop Baby &lt;letters@campaign.org&gt;</dd>",
		"<dt>To</dt><dd>Reed Hastings &lt;reed.hastings@example.com&gt;</dd>",
		// The digest of the two letters queued, greeting as the singles do.
		"The next digest would carry the 2 letters due now",
		"2 people wrote to you about " + e.camp.Title,
		"From Ann Lee",
		"<dt>From</dt><dd>" + e.camp.Organizer.Name + " via Stop Baby &lt;letters@campaign.org&gt;</dd>",
		// The supporter's emails, from their templates.
		"Please confirm your letter: " + e.camp.Title,
		"Your letter: " + e.camp.Title,
		"Did they reply?",
		"Did you get a reply from Reed Hastings?",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if n := strings.Count(r.body, "Dear Mr. Hastings,"); n != 2 {
		t.Errorf("%d greetings, want one in the letter and one in the digest", n)
	}
	if strings.Contains(r.body, "Dear Reed Hastings,") {
		t.Error("the digest greets by the name, not the salutation")
	}
	// Nothing changed: the letters are still queued, no digest formed,
	// nothing sent.
	after, err := e.store.StatusCounts(ctx, e.camp.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the preview changed the send log: %v, then %v", before, after)
	}
	if ds, err := e.store.Digests(ctx, e.camp.Slug, 10); err != nil || len(ds) != 0 {
		t.Errorf("the preview formed %d digests (%v)", len(ds), err)
	}
	if n := len(e.mailer.Sent()); n != 0 {
		t.Errorf("the preview sent %d emails", n)
	}
	if r := e.get("/admin/preview?target=nobody"); r.status != 404 {
		t.Errorf("unknown target: %d", r.status)
	}
	// Linked from the dashboard and the targets page.
	if r := e.get("/admin"); !strings.Contains(r.body, `href="/admin/preview"`) {
		t.Error("the dashboard does not link to the previews")
	}
	if r := e.get("/admin/targets"); !strings.Contains(r.body, `href="/admin/preview?target=reed-hastings"`) {
		t.Error("the targets page does not link to a target's previews")
	}
}

// A letter sent in a digest says so on its page and links to the digest,
// whose page shows the one email as sent and the letters inside; the send
// log shows the digest as one row (issue 26).
func TestMessageInDigestLinksToTheEmailThatCarriedIt(t *testing.T) {
	e := newEnv(t, withEmails(t))
	e.login()
	ctx := context.Background()
	for i := range 2 {
		e.sign(fmt.Sprintf("writer%d@example.org", i))
	}
	ds, err := e.store.ClaimDigests(ctx, "me", []store.DigestRequest{{Target: store.ClaimTarget{ID: "reed-hastings", Name: "Reed Hastings",
		Email: "reed.hastings@example.com", Salutation: "Mr. Hastings", Limit: 1}, Campaign: e.camp.Slug, Max: 10}})
	if err != nil || len(ds) != 1 || len(ds[0].Letters) != 2 {
		t.Fatalf("digests %v (%v)", ds, err)
	}
	if err := e.store.FinishDigests(ctx, []delivery.Outcome{{ID: ds[0].ID, Digest: true, Status: "sent", Attempted: true,
		ProviderID: "dryrun-123"}}); err != nil {
		t.Fatal(err)
	}
	id := ds[0].ID
	msg := e.get(fmt.Sprintf("/admin/messages/%d", ds[0].Letters[0].MessageID))
	if !strings.Contains(msg.body, fmt.Sprintf(`inside <a href="/admin/digests?id=%d">digest %d</a>`, id, id)) {
		t.Fatalf("the message page does not say it went in a digest:\n%s", msg.body)
	}
	if strings.Contains(msg.body, "Dear Mr. Hastings,") {
		t.Error("the message page shows the letter as its own email")
	}
	dg := e.get(fmt.Sprintf("/admin/digests?id=%d", id))
	if dg.status != 200 {
		t.Fatalf("digest page: %d %s", dg.status, dg.body)
	}
	for _, want := range []string{
		"2 people wrote to you about " + e.camp.Title,
		"Dear Mr. Hastings,",
		fmt.Sprintf(`href="/admin/messages/%d"`, ds[0].Letters[0].MessageID),
		fmt.Sprintf(`href="/admin/messages/%d"`, ds[0].Letters[1].MessageID),
		"Ann Lee",
		"<dt>To</dt><dd>Reed Hastings &lt;reed.hastings@example.com&gt;</dd>",
	} {
		if !strings.Contains(dg.body, want) {
			t.Errorf("digest page lacks %q", want)
		}
	}
	if n := strings.Count(dg.body, "Dear Mr. Hastings,"); n != 1 {
		t.Errorf("the digest page shows %d greetings, want the one email's", n)
	}
	log := e.get("/admin/messages?target=reed-hastings")
	if n := strings.Count(log.body, fmt.Sprintf(`<a href="/admin/digests?id=%d">Digest %d</a>`, id, id)); n != 1 {
		t.Errorf("the send log shows the digest in %d rows, want 1:\n%s", n, log.body)
	}
	if !strings.Contains(log.body, "2 letters in one email") {
		t.Error("the send log's digest row does not hold its letters")
	}
	if r := e.get("/admin/digests?id=99999"); r.status != 404 {
		t.Errorf("unknown digest: %d", r.status)
	}
}
