package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/outcry/outcry/internal/delivery"
)

// Test hooks: store methods that only the store's own tests call (the
// service reaches the same rows through the methods it uses), kept here so
// that they are not part of the package's API.

// CreateLetter stores a supporter, their letter and one message per target
// in one transaction. It returns created=false, and writes nothing, when
// the address has already written to this campaign.
func (s *Store) CreateLetter(ctx context.Context, sup NewSupporter, targets []string) (created bool, err error) {
	_, created, err = s.WriteLetter(ctx, sup, targets)
	return created, err
}

// MessageState returns a message's status, last error and attempts.
func (s *Store) MessageState(ctx context.Context, id int64) (status, lastError string, attempts int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT status, last_error, attempts FROM messages WHERE id = ?`, id).Scan(&status, &lastError, &attempts)
	if err != nil {
		return "", "", 0, fmt.Errorf("store: message %d: %w", id, err)
	}
	return status, lastError, attempts, nil
}

// Finish records outcomes in one transaction. An outcome applies only to a
// message still leased ('sending'), so a message cancelled meanwhile stays
// cancelled; a send whose delivery event came first gets its provider id
// and time recorded.
func (s *Store) Finish(ctx context.Context, outcomes []delivery.Outcome) error {
	return s.FinishLeased(ctx, "", outcomes)
}

// SupporterID is the id of the supporter with this normalized address in a
// campaign (ok false: none).
func (s *Store) SupporterID(ctx context.Context, campaign, email string) (id int64, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT id FROM supporters WHERE campaign = ? AND email = ?`, campaign, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: supporter id: %w", err)
	}
	return id, true, nil
}

// SetLetterDefaults stores the campaign's edited default letter.
func (s *Store) SetLetterDefaults(ctx context.Context, campaign, subject, body string) error {
	now := s.nowMs()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for k, v := range map[string]string{settingLetterSubject + campaign: subject, settingLetterBody + campaign: body} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, k, v, now); err != nil {
				return fmt.Errorf("store: set letter defaults: %w", err)
			}
		}
		return nil
	})
}

// TargetNeedsAttention reports whether delivery events flagged a target.
func (s *Store) TargetNeedsAttention(ctx context.Context, targetID string) (bool, string, error) {
	var flag bool
	var note string
	err := s.r.QueryRowContext(ctx, `SELECT needs_attention, attention_note FROM target_state WHERE target_id = ?`, targetID).Scan(&flag, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("store: target state: %w", err)
	}
	return flag, note, nil
}
