// Package confirm is the optional double opt-in: a new letter is held
// until its writer follows a signed, expiring link sent to their address.
package confirm

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"text/template"
	"time"

	"golang.org/x/time/rate"

	outcry "github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/token"
)

// Errors of a confirmation link. Neither changes anything.
var (
	ErrInvalid = errors.New("confirm: the link is not valid")
	ErrExpired = errors.New("confirm: the link has expired")
)

// Outcome is what following a valid link did.
type Outcome int

const (
	Confirmed        Outcome = iota + 1 // the letter is now queued
	AlreadyConfirmed                    // the link was used before
)

// ResendAfter is the least time between two confirmation emails to one address.
const ResendAfter = 10 * time.Minute

// Store is what confirmation needs: unconfirmed supporters, their
// confirmation sends and the confirming itself.
type Store interface {
	ClaimConfirmationSend(ctx context.Context, campaign, email string, lastBefore time.Time) (p store.PendingSupporter, ok bool, err error)
	ReleaseConfirmationSend(ctx context.Context, supporterID int64) error
	ClaimPendingConfirmations(ctx context.Context, limit int) ([]store.PendingSupporter, error)
	ConfirmSupporter(ctx context.Context, campaign string, id int64) (store.ConfirmResult, error)
}

// Service sends confirmation emails and checks their links.
type Service struct {
	Store   Store
	Mailer  delivery.Mailer
	Secret  []byte        // HMAC key of the links
	TTL     time.Duration // a link's life; unconfirmed letters are purged after it
	BaseURL string        // public URL the links start with
	// Title gives a campaign's title by its slug, for the email's words.
	Title func(campaign string) string
	// The organizer, for the email's From and Reply-To.
	FromName string
	ReplyTo  string
	// Limiter bounds confirmation emails (their own rate, apart from the
	// targets' queue). nil: 1 per second, burst 10.
	Limiter *rate.Limiter
	// Queued wakes the sender after a confirmation.
	Queued func()
	Logger *slog.Logger
	Now    func() time.Time
	// Templates holds confirm.txt, the email's text (nil: the embedded
	// templates).
	Templates fs.FS

	dryRun dryRunLinks // recent links not emailed (dry-run), for the console
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Token returns the signed link token of a supporter, valid until expires:
// "<supporter id>.<expiry unix s>.<base64url HMAC-SHA256>".
func (s *Service) Token(supporterID int64, expires time.Time) string {
	payload := strconv.FormatInt(supporterID, 10) + "." + strconv.FormatInt(expires.Unix(), 10)
	return token.Sign(s.Secret, "outcry confirm", payload)
}

// Link is the confirmation URL of a supporter.
func (s *Service) Link(slug string, supporterID int64, expires time.Time) string {
	return s.BaseURL + campaign.Path(slug) + "/confirm?t=" + s.Token(supporterID, expires)
}

// parse checks a token's signature and expiry and returns its supporter id.
func (s *Service) parse(tok string) (int64, error) {
	payload, ok := token.Verify(s.Secret, "outcry confirm", tok)
	if !ok {
		return 0, ErrInvalid
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 2 {
		return 0, ErrInvalid
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return 0, ErrInvalid
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return 0, ErrExpired
	}
	return id, nil
}

// Check tells whether a link's token is valid and unexpired, changing
// nothing (the page with the button).
func (s *Service) Check(tok string) error {
	_, err := s.parse(tok)
	return err
}

// Confirm follows a link: the supporter's held messages are queued.
func (s *Service) Confirm(ctx context.Context, campaign, tok string) (Outcome, error) {
	id, err := s.parse(tok)
	if err != nil {
		return 0, err
	}
	res, err := s.Store.ConfirmSupporter(ctx, campaign, id)
	if err != nil {
		return 0, fmt.Errorf("confirm: %w", err)
	}
	switch res {
	case store.ConfirmDone:
		s.log().Info("letter confirmed", "supporter", id)
		if s.Queued != nil {
			s.Queued()
		}
		return Confirmed, nil
	case store.ConfirmAlready:
		return AlreadyConfirmed, nil
	}
	return 0, ErrExpired // purged, or never existed under a valid signature
}

// Request sends the confirmation email for an unconfirmed letter of this
// address, at most once per ResendAfter. It is called on every accepted
// submission while confirmation is on; it does nothing for a confirmed
// address, so a repeat is answered exactly like a new letter.
func (s *Service) Request(ctx context.Context, campaign, email string) error {
	now := s.now()
	sup, ok, err := s.Store.ClaimConfirmationSend(ctx, campaign, email, now.Add(-ResendAfter))
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if !ok {
		return nil
	}
	expires := time.UnixMilli(sup.CreatedAt).Add(s.TTL)
	if !now.Before(expires) {
		return nil // about to be purged; the supporter may write again then
	}
	if !s.limiter().Allow() {
		// Over the confirmation rate: SendPending sends it shortly, so the
		// request never waits for the limiter.
		s.release(ctx, sup.ID)
		return nil
	}
	if err := s.send(ctx, sup, s.Link(campaign, sup.ID, expires)); err != nil {
		// Never dropped: SendPending (or a later submit) tries again.
		s.release(ctx, sup.ID)
		return fmt.Errorf("confirm: send to supporter %d: %w", sup.ID, err)
	}
	return nil
}

// release clears the sent mark so that the email is sent again.
func (s *Service) release(ctx context.Context, id int64) {
	if err := s.Store.ReleaseConfirmationSend(context.WithoutCancel(ctx), id); err != nil {
		s.log().Error("confirm: release resend mark", "supporter", id, "err", err)
	}
}

// SendPending sends the confirmation emails that are due and not yet sent:
// those over the rate when their letter came in, and those whose send
// failed. It returns how many went out. cmd/outcry runs it every few seconds.
func (s *Service) SendPending(ctx context.Context) (int, error) {
	pending, err := s.Store.ClaimPendingConfirmations(ctx, 20)
	if err != nil {
		return 0, fmt.Errorf("confirm: %w", err)
	}
	sent := 0
	for i, sup := range pending {
		expires := time.UnixMilli(sup.CreatedAt).Add(s.TTL)
		err := s.limiter().Wait(ctx)
		if err == nil {
			err = s.send(ctx, sup, s.Link(sup.Campaign, sup.ID, expires))
		}
		if err != nil {
			for _, rest := range pending[i:] {
				s.release(ctx, rest.ID)
			}
			return sent, fmt.Errorf("confirm: send to supporter %d: %w", sup.ID, err)
		}
		sent++
	}
	return sent, nil
}

func (s *Service) title(campaign string) string {
	if s.Title == nil {
		return campaign
	}
	return s.Title(campaign)
}

func (s *Service) limiter() *rate.Limiter {
	if s.Limiter == nil {
		s.Limiter = rate.NewLimiter(1, 10)
	}
	return s.Limiter
}

func (s *Service) send(ctx context.Context, sup store.PendingSupporter, link string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := s.compose(sup, link)
	if err != nil {
		return err
	}
	if _, err := s.Mailer.Send(ctx, msg); err != nil {
		return err
	}
	if s.Mailer.Name() == "dry-run" {
		// Nothing leaves the machine: show the link to the operator (by id, never the address).
		s.log().Info("dry-run: confirmation link", "supporter", sup.ID, "link", link)
		s.dryRun.add(DryRunLink{SupporterID: sup.ID, Link: link, At: s.now()})
	} else {
		s.log().Info("confirmation email sent", "supporter", sup.ID)
	}
	return nil
}

// compose builds the confirmation email of sup with its link.
func (s *Service) compose(sup store.PendingSupporter, link string) (delivery.Message, error) {
	msg := delivery.Message{
		PublicID:       "confirm-" + rand.Text(),
		Campaign:       sup.Campaign,
		TargetID:       "confirm",
		TargetName:     strings.TrimSpace(sup.FirstName + " " + sup.LastName),
		TargetEmail:    sup.Email,
		SupporterName:  s.FromName,
		SupporterEmail: s.ReplyTo,
	}
	var err error
	msg.Subject, msg.Body, err = s.render(confirmData{FirstName: sup.FirstName, Campaign: s.title(sup.Campaign), Link: link,
		Until: time.UnixMilli(sup.CreatedAt).Add(s.TTL).UTC().Format("2 January 2006 15:04 MST")})
	return msg, err
}

// Preview is the confirmation email a supporter writing for campaign now
// would get, rendered from the real template with a sample supporter (the
// console's preview, issue 26). Nothing is sent or recorded; its link
// names no supporter (id 0) and opens nothing.
func (s *Service) Preview(campaign, firstName, lastName, email string, now time.Time) (delivery.Message, error) {
	sup := store.PendingSupporter{Campaign: campaign, FirstName: firstName, LastName: lastName, Email: email, CreatedAt: now.UnixMilli()}
	return s.compose(sup, s.Link(campaign, 0, now.Add(s.TTL)))
}

// ConfirmTemplate is the confirmation email's file in the templates folder.
const ConfirmTemplate = "confirm.txt"

// confirmData is what templates/confirm.txt sees.
type confirmData struct {
	FirstName, Campaign, Link, Until string
}

// render returns the subject and text of a confirmation email.
func (s *Service) render(d confirmData) (subject, body string, err error) {
	fsys := s.Templates
	if fsys == nil {
		fsys = outcry.Templates("")
	}
	t, err := template.New(ConfirmTemplate).Option("missingkey=error").ParseFS(fsys, ConfirmTemplate)
	if err != nil {
		return "", "", fmt.Errorf("confirm: parse template: %w", err)
	}
	var sb, bb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "subject", d); err != nil {
		return "", "", fmt.Errorf("confirm: render subject: %w", err)
	}
	if err := t.Execute(&bb, d); err != nil {
		return "", "", fmt.Errorf("confirm: render: %w", err)
	}
	return strings.Join(strings.Fields(sb.String()), " "), strings.TrimSpace(bb.String()) + "\n", nil
}
