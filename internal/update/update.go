// Package update sends the organizer's updates to the supporters who asked
// for them (issue 26): news about a campaign, emailed to its supporters who
// gave consent_updates, are confirmed, and are neither erased nor
// unsubscribed, through the supporter mail queue (internal/outbox, at
// OUTCRY_MAIL_RATE, beside the letters and never in their way). Every
// update carries a one-click unsubscribe (RFC 8058): the List-Unsubscribe
// and List-Unsubscribe-Post headers and a link in its text. The link's
// page is internal/web's; this package signs and checks its token.
package update

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/mailtext"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/token"
)

// Store is what updates need of the database.
type Store interface {
	CreateUpdate(ctx context.Context, u store.NewUpdate) (store.Update, bool, error)
	Updates(ctx context.Context, campaign string, limit int) ([]store.Update, error)
	UpdateAudience(ctx context.Context, campaign string) (int, error)
	UnfinishedUpdates(ctx context.Context) ([]int64, error)
	QueueUpdateMails(ctx context.Context, id int64, limit int,
		mail func(u store.Update, r store.UpdateRecipient) (store.NewMail, error)) (int, bool, error)
	QueuedMails(ctx context.Context, kind string) (int, error)
	Unsubscribe(ctx context.Context, supporterID int64, campaign string) (time.Time, bool, error)
}

// Limits of an update's text.
const (
	MaxSubject = 200
	MaxBody    = 20000
)

// Who sent an update (recorded with it).
const (
	ByConsole = "console"
	ByAPI     = "api"
)

// Errors.
var (
	// ErrNoCampaign: there is no campaign with that slug.
	ErrNoCampaign = errors.New("update: there is no campaign with this slug")
	// ErrBadLink: an unsubscribe link that is not valid (not ours, or its
	// supporter erased or of another campaign).
	ErrBadLink = errors.New("update: the unsubscribe link is not valid")
	// ErrTestLink: the link of a test send or a preview, which unsubscribes
	// nobody.
	ErrTestLink = errors.New("update: the link of a test email unsubscribes nobody")
)

// FieldErrors is a message for each field of an update at fault.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	var b strings.Builder
	for k, v := range f {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + v)
	}
	return "update: " + b.String()
}

// Input is an update the organizer wrote.
type Input struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Check trims and checks an update; the error is a FieldErrors.
func Check(in Input) (Input, error) {
	in.Subject = strings.TrimSpace(in.Subject)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	fe := FieldErrors{}
	switch {
	case !utf8.ValidString(in.Subject):
		fe["subject"] = "is not valid text (invalid UTF-8)"
	case in.Subject == "":
		fe["subject"] = "is required"
	case utf8.RuneCountInString(in.Subject) > MaxSubject:
		fe["subject"] = fmt.Sprintf("has at most %d characters", MaxSubject)
	case strings.ContainsFunc(in.Subject, unicode.IsControl):
		fe["subject"] = "is one line, without control characters"
	}
	switch {
	case !utf8.ValidString(in.Body):
		fe["body"] = "is not valid text (invalid UTF-8)"
	case in.Body == "":
		fe["body"] = "is required"
	case utf8.RuneCountInString(in.Body) > MaxBody:
		fe["body"] = fmt.Sprintf("has at most %d characters", MaxBody)
	case strings.ContainsFunc(in.Body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		fe["body"] = "holds control characters"
	}
	if len(fe) > 0 {
		return in, fe
	}
	return in, nil
}

// Service writes, sends and unsubscribes.
type Service struct {
	Store    Store
	Campaign func(slug string) (*campaign.Campaign, bool)
	// Templates holds update.txt, the email.
	Templates fs.FS
	BaseURL   string
	// Secret signs the unsubscribe links (under their own purpose).
	Secret []byte
	// ReplyTo is where a supporter's answer goes when the campaign's
	// organizer contact is not an address (OUTCRY_FROM_EMAIL).
	ReplyTo string
	// ReceiptLink is a supporter's private receipt URL.
	ReceiptLink func(campaign string, supporterID int64) string
	// MailRate is OUTCRY_MAIL_RATE: at most about 30 seconds of it are
	// queued at a time, so that a reply forward or a follow-up queued
	// meanwhile never waits long behind a large update.
	MailRate float64
	// Ready says whether this process queues update mails now (the
	// elected sender); nil: always. Queuing is once only whoever does it.
	Ready  func() bool
	Logger *slog.Logger

	kick     chan struct{}
	kickOnce sync.Once
	once     sync.Once
	tmpl     *template.Template
	err      error
}

// Sent is what Send did.
type Sent struct {
	store.Update
	// Created is false when the same text had been sent to the campaign
	// before: nothing new was queued.
	Created bool
}

// Send records an update of campaign slug for every supporter who would
// get it now; their mails are queued in the background, in batches, by the
// sending process (Run). The same text sent again is the same update.
func (s *Service) Send(ctx context.Context, slug string, in Input, by string) (Sent, error) {
	c, ok := s.Campaign(slug)
	if !ok {
		return Sent{}, ErrNoCampaign
	}
	in, err := Check(in)
	if err != nil {
		return Sent{}, err
	}
	if err := s.parse(); err != nil {
		return Sent{}, err
	}
	u, created, err := s.Store.CreateUpdate(ctx, store.NewUpdate{Campaign: c.Slug, Subject: in.Subject, Body: in.Body, SentBy: by})
	if err != nil {
		return Sent{}, err
	}
	if created {
		s.logger().Info("update sent", "campaign", c.Slug, "update", u.ID, "recipients", u.Recipients, "by", by)
		s.Kick()
	}
	return Sent{Update: u, Created: created}, nil
}

// List is a campaign's updates, newest first.
func (s *Service) List(ctx context.Context, slug string) ([]store.Update, error) {
	return s.Store.Updates(ctx, slug, 100)
}

// Audience counts who an update sent now would reach.
func (s *Service) Audience(ctx context.Context, slug string) (int, error) {
	return s.Store.UpdateAudience(ctx, slug)
}

// --- the email -----------------------------------------------------------

// Sample is who a preview or a test send is addressed to.
var Sample = store.UpdateRecipient{FirstName: "Ann", LastName: "Example"}

// Email renders the update in's email to r (r.SupporterID 0: a preview or
// test, whose unsubscribe link unsubscribes nobody): subject, text,
// sender name, Reply-To and the RFC 8058 headers.
func (s *Service) Email(c *campaign.Campaign, in Input, r store.UpdateRecipient) (store.NewMail, error) {
	if err := s.parse(); err != nil {
		return store.NewMail{}, err
	}
	unsub := s.UnsubscribeURL(c.Slug, r.SupporterID)
	receipt := ""
	if s.ReceiptLink != nil && r.SupporterID != 0 {
		receipt = s.ReceiptLink(c.Slug, r.SupporterID)
	}
	data := map[string]any{"FirstName": r.FirstName, "CampaignTitle": c.Title, "Organizer": c.Organizer.Name,
		"Subject": in.Subject, "Body": in.Body, "Unsubscribe": unsub, "Link": receipt}
	var subject, body bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&subject, "subject", data); err != nil {
		return store.NewMail{}, fmt.Errorf("update: templates/update.txt: %w", err)
	}
	if err := s.tmpl.Execute(&body, data); err != nil {
		return store.NewMail{}, fmt.Errorf("update: templates/update.txt: %w", err)
	}
	replyTo := s.ReplyTo
	if a, err := mail.ParseAddress(c.Organizer.Contact); err == nil && a.Address == c.Organizer.Contact {
		replyTo = a.Address
	}
	return store.NewMail{Campaign: c.Slug, SupporterID: r.SupporterID, Kind: store.MailKindUpdate, ToEmail: r.Email,
		ToName: oneLine(r.FirstName + " " + r.LastName), FromName: c.Organizer.Name, ReplyTo: replyTo,
		Subject: oneLine(subject.String()), Body: body.String(),
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + unsub + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}}, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (s *Service) parse() error {
	s.once.Do(func() {
		var err error
		if s.tmpl, err = mailtext.Parse(s.Templates, "update.txt"); err != nil {
			s.err = fmt.Errorf("update: %w", err)
		}
	})
	return s.err
}

// Check parses the template (call at start-up).
func (s *Service) Check() error { return s.parse() }

// --- unsubscribing -------------------------------------------------------

const unsubscribePurpose = "outcry unsubscribe"

// Token signs the unsubscribe link of a supporter (0: of a test email).
func (s *Service) Token(supporterID int64) string {
	return token.Sign(s.Secret, unsubscribePurpose, strconv.FormatInt(supporterID, 10))
}

// ParseToken checks an unsubscribe token; ErrTestLink for a test email's.
func (s *Service) ParseToken(tok string) (int64, error) {
	payload, ok := token.Verify(s.Secret, unsubscribePurpose, tok)
	if !ok {
		return 0, ErrBadLink
	}
	id, err := strconv.ParseInt(payload, 10, 64)
	switch {
	case err != nil || id < 0:
		return 0, ErrBadLink
	case id == 0:
		return 0, ErrTestLink
	}
	return id, nil
}

// UnsubscribeURL is the page of a supporter's one-click unsubscribe; its
// POST (the page's button, or a mail provider's RFC 8058 one-click post)
// unsubscribes.
func (s *Service) UnsubscribeURL(slug string, supporterID int64) string {
	return s.BaseURL + campaign.Path(slug) + "/unsubscribe?" + url.Values{"t": {s.Token(supporterID)}}.Encode()
}

// Unsubscribe unsubscribes the supporter tok names from campaign slug's
// updates, at once: their update mails still waiting are cancelled. It
// returns when they unsubscribed (the first time, for a repeat).
func (s *Service) Unsubscribe(ctx context.Context, slug, tok string) (time.Time, error) {
	id, err := s.ParseToken(tok)
	if err != nil {
		return time.Time{}, err
	}
	at, ok, err := s.Store.Unsubscribe(ctx, id, slug)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, ErrBadLink
	}
	s.logger().Info("supporter unsubscribed from updates", "campaign", slug, "supporter", id)
	return at, nil
}

// --- queuing the mails ---------------------------------------------------

// batch is how many mails one transaction queues.
const batch = 200

// Kick asks Run to queue mails now rather than at its next tick.
func (s *Service) Kick() {
	select {
	case s.kickChan() <- struct{}{}:
	default:
	}
}

func (s *Service) kickChan() chan struct{} {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	return s.kick
}

// Run queues the mails of unfinished updates every interval (and when
// kicked) until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	kick := s.kickChan()
	for {
		if s.Ready == nil || s.Ready() {
			if _, err := s.Fanout(ctx); err != nil && ctx.Err() == nil {
				s.logger().Error("updates: queue mails: will try again", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
	}
}

// Fanout queues update mails, batch by batch, while fewer than about 30
// seconds of OUTCRY_MAIL_RATE are waiting, and returns how many it
// queued. The rest are queued by a later call, as the queue drains.
func (s *Service) Fanout(ctx context.Context) (int, error) {
	if err := s.parse(); err != nil {
		return 0, err
	}
	ids, err := s.Store.UnfinishedUpdates(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	window := max(batch, int(s.MailRate*30))
	total := 0
	for _, id := range ids {
		for {
			waiting, err := s.Store.QueuedMails(ctx, store.MailKindUpdate)
			if err != nil {
				return total, err
			}
			room := min(batch, window-waiting)
			if room <= 0 {
				return total, nil
			}
			n, done, err := s.Store.QueueUpdateMails(ctx, id, room, s.mailFor)
			if err != nil {
				return total, err
			}
			total += n
			if done {
				break
			}
		}
	}
	return total, nil
}

// mailFor renders an update's mail to one recipient.
func (s *Service) mailFor(u store.Update, r store.UpdateRecipient) (store.NewMail, error) {
	c, ok := s.Campaign(u.Campaign)
	if !ok { // a campaign no longer served: its own slug as its title
		c = &campaign.Campaign{Slug: u.Campaign, Title: u.Campaign}
	}
	return s.Email(c, Input{Subject: u.Subject, Body: u.Body}, r)
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
