package letter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/similar"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/targeting"
)

// Versions of the consent and privacy texts shown with the form; stored
// with each supporter so we know what they agreed to.
const (
	ConsentVersion = "updates-v1"
	PrivacyVersion = "privacy-v1"
)

// SignStore is what the sign path needs: the erasure check and the letter's write.
type SignStore interface {
	IsErased(ctx context.Context, campaign, email, key string) (bool, error)
	WriteLetter(ctx context.Context, sup store.NewSupporter, targets []string) (id int64, created bool, err error)
}

// Service accepts letters: it validates a submission and stores the
// supporter, their letter once and one message per active target in one
// transaction. Each copy is rendered when it is sent (internal/outbox).
type Service struct {
	Store   SignStore
	Targets *target.Registry
	// Areas is the areas file in force (OUTCRY_AREAS; nil: none), for
	// campaigns that match targets by area.
	Areas    *area.Registry
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
	// Gate bounds the letters in the sign path (OUTCRY_MAX_PENDING); nil:
	// no bound. The caller takes a slot with Admit before it reads the
	// letter, and calls the release it returns once the letter is answered.
	Gate *Gate
	// Similar is OUTCRY_SIMILAR: a letter at least this similar to the
	// campaign's is "mostly the campaign's words" (0: 0.9).
	Similar  float64
	measures measures
}

// Admit takes a place in the sign path for one letter, before it is read:
// ErrOverloaded when OUTCRY_MAX_PENDING letters are already in it (the
// letter is shed, counted, and nothing is stored). Call release once the
// letter has been answered.
func (s *Service) Admit() (release func(), err error) {
	if s.Gate == nil {
		return func() {}, nil
	}
	if !s.Gate.Enter() {
		return nil, ErrOverloaded
	}
	return s.Gate.Leave, nil
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
	// SupporterID is the new supporter's id (0 for a repeat): the private
	// receipt link is given only to whoever wrote the letter it shows.
	SupporterID int64
	// Targets are the ids of the targets the letter was queued to.
	Targets []string
	// Similarity is how much of the letter is the campaign's text, and
	// Level what the meter says of it (internal/similar).
	Similarity float64
	Level      similar.Level
}

// measures keeps the measure of each campaign letter: making its chunks
// again for every letter was a tenth of the sign path's CPU at 1,000
// letters a second.
type measures struct {
	mu sync.Mutex
	by map[string]*similar.Measure // by the campaign letter's text
}

// of returns the measure against reference, made once. The map is begun
// again when it holds many texts (edits of the letters of many campaigns).
func (c *measures) of(reference string) *similar.Measure {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.by[reference]; ok {
		return m
	}
	if c.by == nil || len(c.by) >= 64 {
		c.by = map[string]*similar.Measure{}
	}
	m := similar.New(reference)
	c.by[reference] = m
	return m
}

// Threshold is OUTCRY_SIMILAR, or its default.
func (s *Service) Threshold() float64 {
	if s.Similar > 0 {
		return s.Similar
	}
	return similar.DefaultThreshold
}

// Sign validates and stores a letter to a campaign, for each of its active
// targets. Invalid input returns FieldErrors.
func (s *Service) Sign(ctx context.Context, camp *campaign.Campaign, sub *Submission) (Result, error) {
	slug := camp.Slug
	lang := s.Messages
	if lang == nil {
		lang = i18n.Default()
	}
	if err := sub.ValidateIn(lang); err != nil {
		return Result{}, err
	}
	key := EmailKey(sub.Email)
	picked, err := targeting.Resolve(camp, s.Targets.Current(), s.Areas.Current(), targeting.Request{
		Postcode: sub.Postcode, Area: sub.Area, Chosen: sub.Targets, Supporter: key})
	var tfe targeting.FieldErrors
	if errors.As(err, &tfe) {
		return Result{}, FieldErrors(tfe.In(lang.T))
	}
	if err != nil {
		return Result{}, fmt.Errorf("letter: sign: %w", err)
	}
	targets := picked.IDs()
	erased, err := s.Store.IsErased(ctx, slug, sub.Email, key)
	if err != nil {
		return Result{}, fmt.Errorf("letter: sign: %w", err)
	}
	// The letter is measured against the one the page showed: the
	// campaign's, or its version for these targets.
	sim := s.measures.of(targeting.Letter(camp, picked.Matched).Body).Of(sub.Body)
	if erased { // this address wrote and was erased since: a repeat creates nothing
		return Result{Messages: len(targets), Targets: targets, Level: similar.LevelOf(sim, s.Threshold())}, nil
	}
	level := similar.LevelOf(sim, s.Threshold())
	status := store.SupporterConfirmed
	if s.Confirm != nil {
		status = store.SupporterUnconfirmed
	}
	id, created, err := s.Store.WriteLetter(ctx, store.NewSupporter{
		Campaign:       slug,
		Email:          sub.Email,
		EmailKey:       key,
		FirstName:      sub.FirstName,
		LastName:       sub.LastName,
		Postcode:       sub.Postcode,
		ConsentUpdates: sub.ConsentUpdates,
		ConsentVersion: consentVersion(sub.ConsentUpdates),
		PrivacyVersion: PrivacyVersion,
		Status:         status,
		Subject:        sub.Subject,
		Body:           sub.Body,
		Similarity:     &sim,
		Area:           picked.Area.Code,
		AreasVersion:   picked.Version,
		Source:         sub.Source,
	}, targets)
	if err != nil {
		return Result{}, fmt.Errorf("letter: sign: %w", err)
	}
	if s.Observe != nil {
		s.Observe(created)
	}
	res := Result{Created: created, Messages: len(targets), Targets: targets, Similarity: sim, Level: level}
	if created {
		res.SupporterID = id
	}
	if s.Confirm != nil {
		// New or repeated alike; a failed email is logged, and the answer
		// stays the same so that nobody learns who has written.
		if err := s.Confirm.Request(ctx, slug, sub.Email); err != nil {
			s.log().Error("letter: confirmation email", "err", err)
		}
		return res, nil
	}
	if created && s.Queued != nil {
		s.Queued()
	}
	return res, nil
}

// TargetsOf returns the active targets a campaign writes to: those it
// names, or every active one when it names none.
func TargetsOf(camp *campaign.Campaign, list *target.List) []target.Target {
	return targeting.Base(camp, list)
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
