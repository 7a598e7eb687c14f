package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/delivery"
)

// Message statuses. queued and sending are not final; sent moves on with
// delivery events; failed and cancelled are final for the sender.
const (
	StatusUnconfirmed = "unconfirmed"
	StatusQueued      = "queued"
	StatusSending     = "sending"
	StatusSent        = "sent"
	StatusFailed      = "failed"
	StatusCancelled   = "cancelled"
)

// Claim leases up to limit due messages for sending: queued messages whose
// time has come, and 'sending' messages whose lease ran out (their sender
// crashed). Messages to paused or needs-attention targets stay queued.
func (s *Store) Claim(ctx context.Context, limit int, lease time.Duration, skipTargets []string) ([]delivery.Message, error) {
	now := s.nowMs()
	skip := ""
	var skipArgs []any
	if len(skipTargets) > 0 {
		skip = "AND target_id NOT IN (?" + strings.Repeat(",?", len(skipTargets)-1) + ")"
		for _, t := range skipTargets {
			skipArgs = append(skipArgs, t)
		}
	}
	// Two index walks, each stopping at the limit: expired leases first
	// (rare: their sender crashed), then queued messages in due order. (One
	// query with OR made SQLite collect and sort every due row on each
	// claim: a drain of N messages read O(N²) rows.)
	const paused = `target_id NOT IN (SELECT target_id FROM target_state WHERE paused = 1 OR needs_attention = 1)`
	args := []any{now + lease.Milliseconds(), now, now}
	args = append(args, skipArgs...)
	args = append(args, limit, now)
	args = append(args, skipArgs...)
	args = append(args, limit, limit)
	var out []delivery.Message
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE messages SET status = 'sending', lease_until = ?, updated_at = ?
			WHERE id IN (
				SELECT id FROM (SELECT id FROM messages
					WHERE status = 'sending' AND lease_until < ? AND `+paused+` `+skip+`
					ORDER BY next_attempt_at, id LIMIT ?)
				UNION ALL
				SELECT id FROM (SELECT id FROM messages INDEXED BY messages_due
					WHERE status = 'queued' AND next_attempt_at <= ? AND `+paused+` `+skip+`
					ORDER BY next_attempt_at, id LIMIT ?)
				LIMIT ?)
			RETURNING id`, args...)
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		rows, err = tx.QueryContext(ctx, `SELECT m.id, m.public_id, m.campaign, m.target_id, m.target_name, m.target_email,
				s.first_name, s.last_name, s.email, m.subject, m.body, m.attempts
			FROM messages m JOIN supporters s ON s.id = m.supporter_id
			WHERE m.id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY m.id`, anys(ids)...)
		if err != nil {
			return fmt.Errorf("read leased: %w", err)
		}
		defer rows.Close()
		out = make([]delivery.Message, 0, len(ids))
		for rows.Next() {
			var m delivery.Message
			var first, last string
			if err := rows.Scan(&m.ID, &m.PublicID, &m.Campaign, &m.TargetID, &m.TargetName, &m.TargetEmail,
				&first, &last, &m.SupporterEmail, &m.Subject, &m.Body, &m.Attempts); err != nil {
				return err
			}
			m.SupporterName = strings.TrimSpace(first + " " + last)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	return out, nil
}

// Finish records outcomes in one transaction. An outcome applies only to a
// message still leased ('sending'), so a message cancelled meanwhile stays
// cancelled; a send whose delivery event came first gets its provider id
// and time recorded.
func (s *Store) Finish(ctx context.Context, outcomes []delivery.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// A delivery event may arrive before the send's own outcome is
		// recorded: the message then keeps the status the event gave it.
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET
				status = CASE WHEN status = 'sending' THEN ? ELSE status END,
				attempts = attempts + ?,
				provider_message_id = CASE WHEN ? <> '' THEN ? ELSE provider_message_id END,
				last_error = ?,
				next_attempt_at = ?,
				lease_until = 0,
				sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
				updated_at = ?
			WHERE id = ? AND (status = 'sending'
				OR (? = 'sent' AND status IN ('deferred', 'delivered', 'bounced', 'dropped', 'spamreport') AND sent_at IS NULL))`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, o := range outcomes {
			attempted := 0
			if o.Attempted {
				attempted = 1
			}
			next := now
			if !o.Next.IsZero() {
				next = o.Next.UnixMilli()
			}
			if _, err := stmt.ExecContext(ctx, o.Status, attempted, o.ProviderID, o.ProviderID, o.Error, next,
				o.Status, now, now, o.ID, o.Status); err != nil {
				return fmt.Errorf("message %d: %w", o.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish: %w", err)
	}
	return nil
}

// StatusCounts returns the number of messages of a campaign in each status,
// read from message_counts (kept exact by triggers on messages: migration 005).
func (s *Store) StatusCounts(ctx context.Context, campaign string) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, SUM(n) FROM message_counts
		WHERE campaign = ? AND n > 0 GROUP BY status`, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: status counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: status counts: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// RecentSends returns, per target, when messages were sent since since
// (seeds the sender's per-target hourly cap after a restart).
func (s *Store) RecentSends(ctx context.Context, since time.Time) (map[string][]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, sent_at FROM messages
		WHERE sent_at IS NOT NULL AND sent_at >= ? ORDER BY sent_at`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: recent sends: %w", err)
	}
	defer rows.Close()
	out := map[string][]time.Time{}
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, fmt.Errorf("store: recent sends: %w", err)
		}
		out[id] = append(out[id], time.UnixMilli(ms))
	}
	return out, rows.Err()
}

// MessageState returns a message's status, last error and attempts.
func (s *Store) MessageState(ctx context.Context, id int64) (status, lastError string, attempts int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT status, last_error, attempts FROM messages WHERE id = ?`, id).Scan(&status, &lastError, &attempts)
	if err != nil {
		return "", "", 0, fmt.Errorf("store: message %d: %w", id, err)
	}
	return status, lastError, attempts, nil
}
