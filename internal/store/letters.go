package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Supporter statuses.
const (
	SupporterConfirmed   = "confirmed"
	SupporterUnconfirmed = "unconfirmed"
)

// NewSupporter is a supporter about to be stored.
type NewSupporter struct {
	Campaign       string
	Email          string // normalized; mail goes here
	EmailKey       string // deduplication key (letter.EmailKey), unique per campaign; "" = Email
	FirstName      string
	LastName       string
	Postcode       string
	ConsentUpdates bool
	ConsentVersion string
	PrivacyVersion string
	Status         string // SupporterConfirmed (default) or SupporterUnconfirmed
	// The letter, as the supporter wrote it: stored once, whatever the
	// number of targets; each copy's greeting and signature are rendered
	// when it is sent.
	Subject string
	Body    string
}

// CreateLetter stores a supporter, their letter and one message per target
// in one transaction. It returns created=false, and writes nothing, when
// the address has already written to this campaign.
func (s *Store) CreateLetter(ctx context.Context, sup NewSupporter, targets []string) (created bool, err error) {
	_, created, err = s.WriteLetter(ctx, sup, targets)
	return created, err
}

// WriteLetter is CreateLetter that also returns the new supporter's id (0
// for a repeat).
func (s *Store) WriteLetter(ctx context.Context, sup NewSupporter, targets []string) (id int64, created bool, err error) {
	if sup.Status == "" {
		sup.Status = SupporterConfirmed
	}
	// Concurrent calls share a transaction, each letter in its own
	// savepoint (groupcommit.go).
	id, err = s.writeLetter(ctx, sup, targets)
	if err != nil {
		return 0, false, fmt.Errorf("store: create letter: %w", err)
	}
	return id, id != 0, nil
}

// SupporterCount is the number of supporters who have written to a campaign.
func (s *Store) SupporterCount(ctx context.Context, campaign string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT supporters FROM counters WHERE campaign = ?`, campaign).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: supporter count: %w", err)
	}
	return n, nil
}
