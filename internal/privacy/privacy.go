// Package privacy answers a supporter's data requests: a copy of
// everything held about their address (export) and its erasure. The
// command line calls it (outcry supporter export|erase); the organizer
// console can call the same functions.
package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
)

// Store is what a data request reads and erases: everything held about an address.
type Store interface {
	SupporterRecords(ctx context.Context, email, key string) ([]store.SupporterRecord, error)
	EraseSupporter(ctx context.Context, email, key string) (int, error)
}

// Service answers data requests from the store.
type Service struct {
	Store Store
}

// Export is everything held about one address.
type Export struct {
	Email      string                  `json:"email"`
	ExportedAt time.Time               `json:"exported_at"`
	Supporters []store.SupporterRecord `json:"supporters"` // one per campaign written to
}

// Export collects everything held about an address (in any case or
// spacing), and about the variants of it that count as the same supporter
// (letter.EmailKey: +tags, Gmail dots).
func (s *Service) Export(ctx context.Context, email string) (Export, error) {
	email = letter.NormalizeEmail(email)
	recs, err := s.Store.SupporterRecords(ctx, email, letter.EmailKey(email))
	if err != nil {
		return Export{}, fmt.Errorf("privacy: export: %w", err)
	}
	if recs == nil {
		recs = []store.SupporterRecord{}
	}
	return Export{Email: email, ExportedAt: time.Now().UTC(), Supporters: recs}, nil
}

// Erase removes the personal data and letter text held about an address
// and returns how many supporter records were erased (0: none held).
// Anonymous counts and the record that messages were sent remain; a later
// letter from the same address is still recognized as a repeat.
func (s *Service) Erase(ctx context.Context, email string) (int, error) {
	email = letter.NormalizeEmail(email)
	n, err := s.Store.EraseSupporter(ctx, email, letter.EmailKey(email))
	if err != nil {
		return 0, fmt.Errorf("privacy: erase: %w", err)
	}
	return n, nil
}
