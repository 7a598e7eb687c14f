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

// Service accepts letters: it validates a submission, renders one copy per
// active target and stores the supporter and messages in one transaction.
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
	msgs, err := s.Render(sub, s.Targets.Current().Active())
	if err != nil {
		return Result{}, err
	}
	erased, err := s.Store.IsErased(ctx, campaign, sub.Email, EmailKey(sub.Email))
	if err != nil {
		return Result{}, fmt.Errorf("letter: sign: %w", err)
	}
	if erased { // this address wrote and was erased since: a repeat creates nothing
		return Result{Messages: len(msgs)}, nil
	}
	status := store.SupporterConfirmed
	if s.Confirm != nil {
		status = store.SupporterUnconfirmed
	}
	created, err := s.Store.CreateLetter(ctx, store.NewSupporter{
		Campaign:       campaign,
		Email:          sub.Email,
		EmailKey:       EmailKey(sub.Email),
		FirstName:      sub.FirstName,
		LastName:       sub.LastName,
		Postcode:       sub.Postcode,
		ConsentUpdates: sub.ConsentUpdates,
		ConsentVersion: consentVersion(sub.ConsentUpdates),
		PrivacyVersion: PrivacyVersion,
		Status:         status,
	}, msgs)
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
		return Result{Created: created, Messages: len(msgs)}, nil
	}
	if created && s.Queued != nil {
		s.Queued()
	}
	return Result{Created: created, Messages: len(msgs)}, nil
}

// Render produces the message rows for a validated submission.
func (s *Service) Render(sub *Submission, targets []target.Target) ([]store.NewMessage, error) {
	sup := Supporter{FirstName: sub.FirstName, LastName: sub.LastName, Postcode: sub.Postcode}
	msgs := make([]store.NewMessage, 0, len(targets))
	for _, t := range targets {
		body, err := s.Renderer.Render(Data{
			Target:    Recipient{Name: t.Name, Title: t.Title, Salutation: t.Salutation},
			Supporter: sup,
			Body:      sub.Body,
		})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, store.NewMessage{
			TargetID: t.ID, TargetEmail: t.Email, TargetName: t.Name,
			Subject: sub.Subject, Body: body,
		})
	}
	return msgs, nil
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
