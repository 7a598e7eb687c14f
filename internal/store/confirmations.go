package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
)

// PendingSupporter is an unconfirmed supporter about to get a confirmation email.
type PendingSupporter struct {
	ID        int64
	Campaign  string
	Email     string
	FirstName string
	LastName  string
	CreatedAt int64 // unix ms
}

// ClaimConfirmationSend marks that a confirmation email goes out now to
// the unconfirmed supporter with this address, unless one went out after
// lastBefore. ok=false: nothing to send (confirmed, unknown, or too soon).
// The check and the mark are one statement, so two simultaneous submits
// send one email.
func (s *Store) ClaimConfirmationSend(ctx context.Context, campaign, email string, lastBefore time.Time) (p PendingSupporter, ok bool, err error) {
	err = s.w.QueryRowContext(ctx, `UPDATE supporters SET confirm_sent_at = ?
		WHERE campaign = ? AND email = ? AND status = `+sqlUnconfirmed+`
		  AND (confirm_sent_at IS NULL OR confirm_sent_at <= ?)
		RETURNING id, campaign, email, first_name, last_name, created_at`,
		s.nowMs(), campaign, email, lastBefore.UnixMilli()).
		Scan(&p.ID, &p.Campaign, &p.Email, &p.FirstName, &p.LastName, &p.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("store: claim confirmation send: %w", err)
	}
	return p, true, nil
}

// ClaimPendingConfirmations marks as sent now, and returns, up to limit
// unconfirmed supporters whose confirmation email has not gone out (over
// the rate, or a failed send), oldest first, skipping expired ones' purge.
func (s *Store) ClaimPendingConfirmations(ctx context.Context, limit int) ([]PendingSupporter, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE supporters SET confirm_sent_at = ?
		WHERE `+s.d.noIndex("confirm_sent_at")+` IS NULL AND id IN (SELECT id FROM supporters
			WHERE status = `+sqlUnconfirmed+` AND confirm_sent_at IS NULL AND erased_at IS NULL
			ORDER BY id LIMIT ?)
		RETURNING id, campaign, email, first_name, last_name, created_at`, s.nowMs(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim pending confirmations: %w", err)
	}
	defer rows.Close()
	var out []PendingSupporter
	for rows.Next() {
		var p PendingSupporter
		if err := rows.Scan(&p.ID, &p.Campaign, &p.Email, &p.FirstName, &p.LastName, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: claim pending confirmations: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ReleaseConfirmationSend clears the mark after a failed send.
func (s *Store) ReleaseConfirmationSend(ctx context.Context, supporterID int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE supporters SET confirm_sent_at = NULL WHERE id = ?`, supporterID); err != nil {
		return fmt.Errorf("store: release confirmation send: %w", err)
	}
	return nil
}

// ConfirmResult is what ConfirmSupporter did.
type ConfirmResult int

const (
	ConfirmMissing ConfirmResult = iota // no such supporter (purged)
	ConfirmDone                         // confirmed now: messages queued
	ConfirmAlready                      // confirmed before
)

// ConfirmSupporter confirms an unconfirmed supporter of a campaign and
// queues their held messages, in one transaction.
func (s *Store) ConfirmSupporter(ctx context.Context, campaign string, id int64) (ConfirmResult, error) {
	res := ConfirmMissing
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM supporters WHERE id = ? AND campaign = ? AND erased_at IS NULL`, id, campaign).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if status != SupporterUnconfirmed {
			res = ConfirmAlready
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE supporters SET status = 'confirmed', confirmed_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		if err := appendSupporterHook(ctx, tx, hookevent.SupporterConfirmed, id, now); err != nil {
			return err
		}
		// queued_at keeps the time the letter was written: the send log's
		// date filter relies on it growing with the message id.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = `+sqlQueued+`, next_attempt_at = ?, updated_at = ?
			WHERE supporter_id = ? AND status = `+sqlUnconfirmed, now, now, id); err != nil {
			return err
		}
		res = ConfirmDone
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: confirm supporter %d: %w", id, err)
	}
	return res, nil
}
