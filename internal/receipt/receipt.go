// Package receipt is a supporter's private receipt: a signed link, given on
// the thank-you page (no account, no login), to a page that shows their
// letter and, per decision-maker, whether it is waiting, sent or
// delivered; and, on request, an email of the letter with that link to the
// supporter's own address, never with anyone else's data.
package receipt

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
	"sync"
	"text/template"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/token"
)

// Errors of a receipt link.
var (
	ErrInvalid = errors.New("receipt: the link is not valid")
	// ErrGone: the letter is no longer held (erased, or an unconfirmed
	// letter deleted after its confirmation time).
	ErrGone = errors.New("receipt: the letter is no longer held")
	// ErrTooSoon: a copy was emailed a moment ago.
	ErrTooSoon = errors.New("receipt: a copy was emailed a moment ago")
	// ErrBusy: the site's copies for this minute are spent.
	ErrBusy = errors.New("receipt: many copies are going out; try again in a minute")
	// ErrNotProven: the address has not proven itself: the writer has not
	// confirmed it, and this is not the browser that wrote the letter a
	// moment ago, or that one already had its copy.
	ErrNotProven = errors.New("receipt: a copy goes only to an address that has proven itself")
	// ErrNoMail: emailing a copy is off (no mailer).
	ErrNoMail = errors.New("receipt: emailing a copy is not available")
)

// EmailEvery is the least time between two copies emailed to one
// confirmed supporter.
const EmailEvery = 10 * time.Minute

// FreshFor is how long after writing the browser that wrote a letter may
// ask for its one copy without confirming the address.
const FreshFor = 15 * time.Minute

// CopiesPerMinute bounds the copies the whole site emails in one minute,
// counted in the database across instances.
const CopiesPerMinute = 30

const purpose = "outcry receipt"

// Store is what the receipt page reads (one supporter's letter and its
// copies) and where the copies emailed are counted.
type Store interface {
	Receipt(ctx context.Context, supporterID int64) (r store.Receipt, ok bool, err error)
	ClaimReceiptCopy(ctx context.Context, supporterID int64, r store.ReceiptCopyRules) (store.CopyClaim, error)
	ReleaseReceiptCopy(ctx context.Context, supporterID int64) error
}

// Service makes and checks receipt links and emails copies.
type Service struct {
	Store   Store
	Secret  []byte // HMAC key of the links
	BaseURL string
	// Mailer emails copies (nil: the page offers no email).
	Mailer delivery.Mailer
	// Templates holds receipt.txt, the email; Messages the status words.
	Templates fs.FS
	Messages  *i18n.Catalog
	// Title gives a campaign's title by its slug; TargetName a target's
	// name by its id (for copies not yet claimed for sending).
	Title      func(campaign string) string
	TargetName func(id string) string
	// The organizer the email comes from.
	FromName string
	ReplyTo  string
	// Limiter paces this instance's copies (nil: 1 a second, bursts of
	// 10); CopiesPerMinute bounds the whole site's, in the database.
	Limiter *rate.Limiter
	// ConfirmOn: letters wait for their writer's confirmation
	// (OUTCRY_CONFIRM=on); then only a confirmed address gets a copy.
	ConfirmOn bool
	Logger    *slog.Logger
	Now       func() time.Time

	once  sync.Once
	email *template.Template
	err   error
	mu    sync.Mutex
}

// Token is the signed token of a supporter's receipt.
func (s *Service) Token(supporterID int64) string {
	return token.Sign(s.Secret, purpose, strconv.FormatInt(supporterID, 10))
}

// Path is the receipt page of a supporter, from the site's root.
func (s *Service) Path(slug string, supporterID int64) string {
	return campaign.Path(slug) + "/receipt/" + s.Token(supporterID)
}

// Link is the receipt page's full URL.
func (s *Service) Link(campaign string, supporterID int64) string {
	return s.BaseURL + s.Path(campaign, supporterID)
}

// ID is the supporter a receipt token we signed names.
func (s *Service) ID(tok string) (int64, error) { return s.parse(tok) }

// Valid reports whether tok is a receipt token we signed.
func (s *Service) Valid(tok string) bool {
	_, err := s.parse(tok)
	return err == nil
}

func (s *Service) parse(tok string) (int64, error) {
	payload, ok := token.Verify(s.Secret, purpose, tok)
	if !ok {
		return 0, ErrInvalid
	}
	id, err := strconv.ParseInt(payload, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrInvalid
	}
	return id, nil
}

// Open reads the receipt a token names, in campaign.
func (s *Service) Open(ctx context.Context, campaign, tok string) (store.Receipt, error) {
	id, err := s.parse(tok)
	if err != nil {
		return store.Receipt{}, err
	}
	r, ok, err := s.Store.Receipt(ctx, id)
	if err != nil {
		return store.Receipt{}, fmt.Errorf("receipt: %w", err)
	}
	if !ok || r.Erased || r.Campaign != campaign {
		return store.Receipt{}, ErrGone
	}
	for i, m := range r.Messages {
		if m.TargetName == "" {
			r.Messages[i].TargetName = m.TargetID
			if s.TargetName != nil {
				r.Messages[i].TargetName = s.TargetName(m.TargetID)
			}
		}
	}
	return r, nil
}

// CanEmail reports whether copies can be emailed.
func (s *Service) CanEmail() bool { return s.Mailer != nil }

// EmailCopy emails the supporter a copy of their letter with the receipt
// link, to the address they wrote from, only when that address has proven
// itself: the writer confirmed it (then at most once per EmailEvery), or
// fresh is true — the request comes from the browser that wrote the letter
// less than FreshFor ago, which the caller checked — and the address never
// had a copy (then once, ever). The limits are held in the database.
func (s *Service) EmailCopy(ctx context.Context, campaign, tok string, fresh bool) error {
	if s.Mailer == nil {
		return ErrNoMail
	}
	r, err := s.Open(ctx, campaign, tok)
	if err != nil {
		return err
	}
	if s.ConfirmOn && r.Status != store.SupporterConfirmed {
		return ErrNotProven
	}
	if !s.limiter().Allow() {
		return ErrBusy
	}
	claim, err := s.Store.ClaimReceiptCopy(ctx, r.SupporterID, store.ReceiptCopyRules{
		Fresh: fresh, Every: EmailEvery, PerMinute: CopiesPerMinute, Now: s.now()})
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	switch claim {
	case store.CopyGranted:
	case store.CopyTooSoon:
		return ErrTooSoon
	case store.CopyBusy:
		return ErrBusy
	case store.CopyNotProven:
		return ErrNotProven
	default:
		return ErrGone
	}
	msg, err := s.compose(r)
	if err != nil {
		s.release(ctx, r.SupporterID)
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.Mailer.Send(sctx, msg); err != nil {
		s.release(ctx, r.SupporterID)
		return fmt.Errorf("receipt: email supporter %d: %w", r.SupporterID, err)
	}
	s.log().Info("receipt: copy emailed", "supporter", r.SupporterID, "mailer", s.Mailer.Name())
	return nil
}

func (s *Service) limiter() *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Limiter == nil {
		s.Limiter = rate.NewLimiter(1, 10)
	}
	return s.Limiter
}

// release takes back a copy that could not be sent.
func (s *Service) release(ctx context.Context, id int64) {
	if err := s.Store.ReleaseReceiptCopy(context.WithoutCancel(ctx), id); err != nil {
		s.log().Error("receipt: release a copy", "supporter", id, "err", err)
	}
}

// emailData is what templates/receipt.txt sees.
type emailData struct {
	FirstName     string
	CampaignTitle string
	Organizer     string
	Link          string
	Subject, Body string
	Copies        []Copy
}

// Copy is one decision-maker's copy, in words.
type Copy struct {
	TargetName string
	Status     string // in words: "Delivered"
}

// Copies are the receipt's messages with their status in words.
func (s *Service) Copies(r store.Receipt) []Copy {
	out := make([]Copy, len(r.Messages))
	for i, m := range r.Messages {
		out[i] = Copy{TargetName: m.TargetName, Status: StatusWords(s.messages(), m.Status)}
	}
	return out
}

// StatusWords says a message status to a supporter, from the message file
// (receipt.status.<status>).
func StatusWords(m *i18n.Catalog, status string) string {
	if key := "receipt.status." + status; m.Has(key) {
		return m.T(key)
	}
	return m.T("receipt.status.other")
}

// Preview is the copy email r's writer would get, rendered from the real
// template (the console's preview of a sample supporter, issue 26).
// Nothing is sent or recorded.
func (s *Service) Preview(r store.Receipt) (delivery.Message, error) { return s.compose(r) }

func (s *Service) compose(r store.Receipt) (delivery.Message, error) {
	s.once.Do(func() {
		s.email, s.err = template.ParseFS(s.Templates, "receipt.txt")
	})
	if s.err != nil {
		return delivery.Message{}, fmt.Errorf("receipt: templates/receipt.txt: %w", s.err)
	}
	title := r.Campaign
	if s.Title != nil {
		title = s.Title(r.Campaign)
	}
	d := emailData{FirstName: r.FirstName, CampaignTitle: title, Organizer: s.FromName,
		Link: s.Link(r.Campaign, r.SupporterID), Subject: r.Subject, Body: strings.TrimSpace(r.Body), Copies: s.Copies(r)}
	var subject, body bytes.Buffer
	if err := s.email.ExecuteTemplate(&subject, "subject", d); err != nil {
		return delivery.Message{}, fmt.Errorf("receipt: render subject: %w", err)
	}
	if err := s.email.ExecuteTemplate(&body, "receipt.txt", d); err != nil {
		return delivery.Message{}, fmt.Errorf("receipt: render email: %w", err)
	}
	return delivery.Message{
		PublicID:       "receipt-" + rand.Text(),
		Campaign:       r.Campaign,
		TargetID:       "receipt",
		TargetName:     strings.TrimSpace(r.FirstName + " " + r.LastName),
		TargetEmail:    r.Email,
		SupporterName:  s.FromName,
		SupporterEmail: s.ReplyTo,
		Subject:        strings.Join(strings.Fields(subject.String()), " "),
		Body:           body.String(),
	}, nil
}

func (s *Service) messages() *i18n.Catalog {
	if s.Messages != nil {
		return s.Messages
	}
	return i18n.Default()
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
