package store

import (
	"context"
	"crypto/rand"
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
	Email          string // normalized
	FirstName      string
	LastName       string
	Postcode       string
	ConsentUpdates bool
	ConsentVersion string
	PrivacyVersion string
	Status         string // SupporterConfirmed (default) or SupporterUnconfirmed
}

// NewMessage is one rendered copy for one target.
type NewMessage struct {
	TargetID    string
	TargetEmail string
	TargetName  string
	Subject     string
	Body        string
}

// insertMessageSQL is prepared once when the store opens, rather than
// compiled (with the message_counts trigger it fires) for every message
// of every letter (BenchmarkCreateLetter).
const insertMessageSQL = `INSERT INTO messages
	(public_id, supporter_id, campaign, target_id, target_email, target_name, subject, body,
	 status, next_attempt_at, queued_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateLetter stores a supporter and their messages in one transaction.
// It returns created=false, and writes nothing, when the address has already
// written to this campaign.
func (s *Store) CreateLetter(ctx context.Context, sup NewSupporter, msgs []NewMessage) (created bool, err error) {
	if sup.Status == "" {
		sup.Status = SupporterConfirmed
	}
	msgStatus := StatusQueued
	if sup.Status == SupporterUnconfirmed {
		msgStatus = StatusUnconfirmed
	}
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO supporters
			(campaign, email, first_name, last_name, postcode, consent_updates, consent_version, privacy_version, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign, email) DO NOTHING
			RETURNING id`,
			sup.Campaign, sup.Email, sup.FirstName, sup.LastName, sup.Postcode, sup.ConsentUpdates,
			sup.ConsentVersion, sup.PrivacyVersion, sup.Status, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already written: a repeat creates nothing
		}
		if err != nil {
			return fmt.Errorf("insert supporter: %w", err)
		}
		insert := tx.StmtContext(ctx, s.insertMessage)
		for _, m := range msgs {
			if _, err := insert.ExecContext(ctx, rand.Text(), id, sup.Campaign, m.TargetID, m.TargetEmail, m.TargetName, m.Subject, m.Body,
				msgStatus, now, now, now); err != nil {
				return fmt.Errorf("insert message for %s: %w", m.TargetID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO counters (campaign, supporters) VALUES (?, 1)
			ON CONFLICT (campaign) DO UPDATE SET supporters = supporters + 1`, sup.Campaign); err != nil {
			return fmt.Errorf("count supporter: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: create letter: %w", err)
	}
	return created, nil
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
