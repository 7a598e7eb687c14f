package letter

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// Versions of the consent and privacy texts shown with the form; stored
// with each supporter so we know what they agreed to.
const (
	ConsentVersion = "updates-v1"
	PrivacyVersion = "privacy-v1"
)

// Service accepts letters: it validates a submission and stores the
// supporter, their letter once and one message per active target in one
// transaction. Each copy is rendered when it is sent (Outbox).
type Service struct {
	Store    *store.Store
	Targets  *target.Registry
	Renderer *Renderer
	// Queued is called after a new letter is stored (wakes the sender).
	Queued func()
	// Messages are the validation messages' language (nil: English).
	Messages *i18n.Catalog
	// Confirm, when set, holds new letters until their writer confirms
	// (OUTCRY_CONFIRM): it sends the confirmation email for an unconfirmed
	// address, throttled, and does nothing for a confirmed one.
	Confirm Confirmer
	Logger  *slog.Logger
	// Observe, when set, is told of each accepted letter: created is false
	// for a repeat from the same address (metrics).
	Observe func(created bool)
}

// Confirmer sends confirmation emails (internal/confirm).
type Confirmer interface {
	Request(ctx context.Context, campaign, email string) error
}

// Result says what became of an accepted submission. Callers must answer a
// repeat exactly like a new letter, so that nobody learns who has written.
type Result struct {
	Created  bool
	Messages int
}

// Sign validates and stores a letter to the campaign with the given slug.
// Invalid input returns FieldErrors.
func (s *Service) Sign(ctx context.Context, campaign string, sub *Submission) (Result, error) {
	lang := s.Messages
	if lang == nil {
		lang = i18n.Default()
	}
	if err := sub.ValidateIn(lang); err != nil {
		return Result{}, err
	}
	active := s.Targets.Current().Active()
	targets := make([]string, len(active))
	for i, t := range active {
		targets[i] = t.ID
	}
	erased, err := s.Store.IsErased(ctx, campaign, sub.Email)
	if err != nil {
		return Result{}, fmt.Errorf("letter: sign: %w", err)
	}
	if erased { // this address wrote and was erased since: a repeat creates nothing
		return Result{Messages: len(targets)}, nil
	}
	status := store.SupporterConfirmed
	if s.Confirm != nil {
		status = store.SupporterUnconfirmed
	}
	created, err := s.Store.CreateLetter(ctx, store.NewSupporter{
		Campaign:       campaign,
		Email:          sub.Email,
		FirstName:      sub.FirstName,
		LastName:       sub.LastName,
		Postcode:       sub.Postcode,
		ConsentUpdates: sub.ConsentUpdates,
		ConsentVersion: consentVersion(sub.ConsentUpdates),
		PrivacyVersion: PrivacyVersion,
		Status:         status,
		Subject:        sub.Subject,
		Body:           sub.Body,
	}, targets)
	if err != nil {
		return Result{}, fmt.Errorf("letter: sign: %w", err)
	}
	if s.Observe != nil {
		s.Observe(created)
	}
	if s.Confirm != nil {
		// New or repeated alike; a failed email is logged, and the answer
		// stays the same so that nobody learns who has written.
		if err := s.Confirm.Request(ctx, campaign, sub.Email); err != nil {
			s.log().Error("letter: confirmation email", "err", err)
		}
		return Result{Created: created, Messages: len(targets)}, nil
	}
	if created && s.Queued != nil {
		s.Queued()
	}
	return Result{Created: created, Messages: len(targets)}, nil
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func consentVersion(given bool) string {
	if given {
		return ConsentVersion
	}
	return ""
}
