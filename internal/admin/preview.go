package admin

import (
	"context"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// The previews page (/admin/preview, issue 26): every email of a campaign
// before anyone gets it — the letter as a chosen target receives it, the
// digest that target would receive now (from the real queue, through the
// real digest renderer), and the confirmation, copy (receipt) and
// follow-up emails of a sample supporter. Nothing is sent, claimed or
// written: each preview is rendered by the code that renders the real
// email, from its template.

// ReceiptPreview renders the copy of a letter emailed to its writer
// (internal/receipt).
type ReceiptPreview interface {
	Preview(r store.Receipt) (delivery.Message, error)
}

// FollowupPreview renders the follow-up email (internal/reply).
type FollowupPreview interface {
	Preview(c *campaign.Campaign, d store.FollowupCandidate) (store.NewMail, error)
}

// relayed says whether a campaign's replies go through the relay (the
// reply service behind Deps.Replies).
type relayed interface {
	Relayed(campaign string) bool
}

// previewEmail is one email as its recipient would see it.
type previewEmail struct {
	ID, Heading string
	// Off says why this email is not sent for this campaign now ("":
	// it is).
	Off                        string
	From, ReplyTo, To, Subject string
	ReplyNote                  string
	Body                       string
	Variants                   []string // other subject lines a supporter may be given
	Error                      string   // the template failed: what it said
}

type previewData struct {
	Slug     string
	Targets  []target.Target
	Target   target.Target
	Letter   previewEmail
	Digest   previewEmail
	Queue    outbox.DigestPreview
	Mails    []previewEmail
	Relayed  bool
	NoTarget bool
}

// previewPage is GET /admin/preview?campaign=<slug>&target=<id>.
func (c *Console) previewPage(ctx echo.Context) error {
	if s := ctx.QueryParam("campaign"); s != "" {
		if _, ok := c.d.Campaigns.Get(s); !ok {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
		}
	}
	camp := c.current(ctx)
	list := c.d.Targets.Current()
	d := previewData{Slug: camp.Slug, Targets: list.All}
	t, ok := list.ByID(ctx.QueryParam("target"))
	if ctx.QueryParam("target") != "" && !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such target.")
	}
	if !ok {
		t, ok = c.firstTarget(camp)
	}
	d.NoTarget = !ok
	d.Target = t
	if r, isR := c.d.Replies.(relayed); isR {
		d.Relayed = r.Relayed(camp.Slug)
	}
	rc := ctx.Request().Context()
	if ok {
		d.Letter = c.previewLetter(camp, t, d.Relayed)
		var err error
		if d.Queue, d.Digest, err = c.previewDigest(rc, camp, t, d.Relayed); err != nil {
			return err
		}
	}
	d.Mails = c.previewMails(camp, list)
	v := c.newView(ctx, "Previews", "preview", d)
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return c.render(ctx, http.StatusOK, "preview", v)
}

// firstTarget is the target a preview starts with: the campaign's first,
// else the first active one.
func (c *Console) firstTarget(camp *campaign.Campaign) (target.Target, bool) {
	list := c.d.Targets.Current()
	for _, id := range camp.Targets {
		if t, ok := list.ByID(id); ok {
			return t, true
		}
	}
	if a := list.Active(); len(a) > 0 {
		return a[0], true
	}
	if len(list.All) > 0 {
		return list.All[0], true
	}
	return target.Target{}, false
}

// from is the From the SendGrid mailer sets for an email sent on behalf
// of name (delivery/sendgrid.go).
func (c *Console) from(name string) string {
	switch {
	case name == "":
		return c.d.FromName + " <" + c.d.FromEmail + ">"
	case c.d.FromName == "":
		return name + " <" + c.d.FromEmail + ">"
	}
	return name + " via " + c.d.FromName + " <" + c.d.FromEmail + ">"
}

const relayNote = "an address of its own at OUTCRY_REPLY_DOMAIN, made when the email is sent: the answer is captured on the Replies page"

// previewLetter is the letter as t receives it from the sample supporter
// who kept the campaign's text: the letter version for t's fields, the
// letter template with t's salutation, the subject a supporter is given.
func (c *Console) previewLetter(camp *campaign.Campaign, t target.Target, relay bool) previewEmail {
	l := camp.LetterFor(t.Fields)
	name := sampleSupporter.FullName()
	e := previewEmail{ID: "letter", Heading: "Letter to " + t.Name, From: c.from(name), To: t.Name + " <" + t.Email + ">",
		ReplyTo: name + " <" + sampleEmail + ">", ReplyNote: "the supporter: an answer reaches them", Subject: l.Subject}
	if relay {
		e.ReplyTo, e.ReplyNote = "", relayNote
	}
	if l.Subject == camp.Letter.Subject && len(camp.Letter.Subjects) > 1 {
		e.Variants = slices.Clone(camp.Letter.Subjects)
	}
	if !t.Active {
		e.Off = t.Name + " is inactive: it receives no new letter."
	} else if len(camp.Targets) > 0 && !slices.Contains(camp.Targets, t.ID) {
		e.Off = t.Name + " is not among this campaign's targets: no letter of it goes to them."
	}
	body, err := c.d.Renderer.Copy(store.Copy{Subject: l.Subject, Body: l.Body, FirstName: sampleSupporter.FirstName,
		LastName: sampleSupporter.LastName, Postcode: sampleSupporter.Postcode, TargetName: t.Name, Title: t.Title, Salutation: t.Salutation})
	if err != nil {
		e.Error = err.Error()
	}
	e.Body = body
	return e
}

// previewDigest is the digest t would receive from camp now.
func (c *Console) previewDigest(ctx context.Context, camp *campaign.Campaign, t target.Target, relay bool) (outbox.DigestPreview, previewEmail, error) {
	e := previewEmail{ID: "digest", Heading: "Digest to " + t.Name + " now", To: t.Name + " <" + t.Email + ">"}
	if c.d.Delivery == nil {
		e.Off = "No delivery policy: every letter goes as its own email."
		return outbox.DigestPreview{}, e, nil
	}
	p, err := c.d.Delivery.PreviewDigest(ctx, c.d.Store, camp.Slug, t)
	if err != nil {
		return p, e, err
	}
	if p.Mode == delivery.Individual {
		e.Off = "This campaign sends every letter as its own email (delivery: individual): no digest goes out."
	}
	e.From, e.ReplyTo, e.Subject, e.Body = c.from(p.FromName), p.ReplyTo, p.Subject, p.Body
	e.ReplyNote = "the campaign's address: a digest speaks for many supporters"
	if relay {
		e.ReplyTo, e.ReplyNote = "", relayNote
	}
	return p, e, nil
}

// previewMails are the emails a sample supporter of camp receives.
func (c *Console) previewMails(camp *campaign.Campaign, list *target.List) []previewEmail {
	name := sampleSupporter.FullName()
	to := name + " <" + sampleEmail + ">"
	now := c.d.Now()
	var out []previewEmail

	conf := previewEmail{ID: "confirm", Heading: "Confirmation", To: to}
	if c.d.Confirm == nil {
		conf.Off = "Confirmation is off (OUTCRY_CONFIRM): letters go without it and this email is not sent."
	} else if m, err := c.d.Confirm.Preview(camp.Slug, sampleSupporter.FirstName, sampleSupporter.LastName, sampleEmail, now); err != nil {
		conf.Error = err.Error()
	} else {
		conf = mailOf(conf, c.from(m.SupporterName), m.SupporterEmail, m.Subject, m.Body)
	}
	out = append(out, conf)

	// The supporter's letter went to the campaign's first targets.
	var msgs []store.ReceiptMessage
	var fts []store.FollowupTarget
	for _, t := range list.Active() {
		if len(camp.Targets) > 0 && !slices.Contains(camp.Targets, t.ID) {
			continue
		}
		msgs = append(msgs, store.ReceiptMessage{TargetID: t.ID, TargetName: t.Name, Status: string(sendlog.Delivered), QueuedAt: now})
		fts = append(fts, store.FollowupTarget{ID: t.ID, Name: t.Name})
	}
	rec := previewEmail{ID: "receipt", Heading: "Copy of the letter (receipt)", To: to,
		Off: "Sent only when the writer asks for it on their receipt page."}
	if c.d.Receipts == nil {
		rec.Off = "No receipt service: this email is not sent."
	} else if m, err := c.d.Receipts.Preview(store.Receipt{Campaign: camp.Slug, FirstName: sampleSupporter.FirstName,
		LastName: sampleSupporter.LastName, Email: sampleEmail, Status: store.SupporterConfirmed, CreatedAt: now,
		Subject: camp.Letter.Subject, Body: camp.Letter.Body, Messages: msgs}); err != nil {
		rec.Error = err.Error()
	} else {
		rec = mailOf(rec, c.from(m.SupporterName), m.SupporterEmail, m.Subject, m.Body)
	}
	out = append(out, rec)

	fu := previewEmail{ID: "followup", Heading: "Follow-up", To: to}
	if !camp.Followup {
		fu.Off = "This campaign asks for no follow-up (followup: false): this email is not sent."
	}
	if c.d.Followups == nil {
		fu.Off = "No follow-up service: this email is not sent."
	} else if m, err := c.d.Followups.Preview(camp, store.FollowupCandidate{Campaign: camp.Slug, Email: sampleEmail,
		FirstName: sampleSupporter.FirstName, LastName: sampleSupporter.LastName, Targets: fts}); err != nil {
		fu.Error = err.Error()
	} else {
		fu = mailOf(fu, c.from(m.FromName), m.ReplyTo, m.Subject, m.Body)
	}
	out = append(out, fu)
	return out
}

func mailOf(e previewEmail, from, replyTo, subject, body string) previewEmail {
	e.From, e.ReplyTo, e.Subject, e.Body = from, replyTo, subject, body
	if replyTo == "" {
		e.ReplyTo = "none (replies go to the From address)"
	}
	return e
}
