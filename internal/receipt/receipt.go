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
	// ErrTooSoon: a copy was emailed a moment ago, or many are going out.
	ErrTooSoon = errors.New("receipt: a copy was emailed a moment ago")
	// ErrNoMail: emailing a copy is off (no mailer).
	ErrNoMail = errors.New("receipt: emailing a copy is not available")
)

// EmailEvery is the least time between two copies emailed to one supporter.
const EmailEvery = 10 * time.Minute

const purpose = "outcry receipt"

// Store is what the receipt page reads: one supporter's letter and its copies.
type Store interface {
	Receipt(ctx context.Context, supporterID int64) (r store.Receipt, ok bool, err error)
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
	// Limiter bounds the copies emailed by everyone together (nil: 1 a
	// second, bursts of 10).
	Limiter *rate.Limiter
	Logger  *slog.Logger
	Now     func() time.Time

	once  sync.Once
	email *template.Template
	err   error

	mu   sync.Mutex
	sent map[int64]time.Time // supporter → last copy emailed
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
// link, to the address they wrote from, at most once per EmailEvery.
func (s *Service) EmailCopy(ctx context.Context, campaign, tok string) error {
	if s.Mailer == nil {
		return ErrNoMail
	}
	r, err := s.Open(ctx, campaign, tok)
	if err != nil {
		return err
	}
	if !s.claim(r.SupporterID) {
		return ErrTooSoon
	}
	msg, err := s.compose(r)
	if err != nil {
		s.release(r.SupporterID)
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.Mailer.Send(ctx, msg); err != nil {
		s.release(r.SupporterID)
		return fmt.Errorf("receipt: email supporter %d: %w", r.SupporterID, err)
	}
	s.log().Info("receipt: copy emailed", "supporter", r.SupporterID, "mailer", s.Mailer.Name())
	return nil
}

// claim records a copy about to be emailed; false when one went out less
// than EmailEvery ago, or too many are going out at once.
func (s *Service) claim(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.sent == nil {
		s.sent = map[int64]time.Time{}
	}
	if last, ok := s.sent[id]; ok && now.Sub(last) < EmailEvery {
		return false
	}
	if s.Limiter == nil {
		s.Limiter = rate.NewLimiter(1, 10)
	}
	if !s.Limiter.AllowN(now, 1) {
		return false
	}
	for k, t := range s.sent { // forget what no longer limits
		if now.Sub(t) >= EmailEvery {
			delete(s.sent, k)
		}
	}
	s.sent[id] = now
	return true
}

func (s *Service) release(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sent, id)
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
