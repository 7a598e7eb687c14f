package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// NewMail is a transactional email to a supporter, to be queued (table
// mails; internal/outbox's supporter mail).
type NewMail struct {
	Campaign    string
	SupporterID int64 // 0: none
	Kind        string
	ToEmail     string
	ToName      string
	FromName    string // display name of the sender ("" for the process's)
	ReplyTo     string // "" for none
	Subject     string
	Body        string
	Headers     map[string]string // e.g. List-Unsubscribe
	// DedupeKey, when set, makes the mail once only: a second mail with the
	// same key is not queued (across restarts and instances).
	DedupeKey string
	DueAt     time.Time // zero: now
	// UpdateID is the update (issue 26, table updates) the mail carries;
	// 0 for the other kinds.
	UpdateID int64
}

// Mail is a queued mail as the drain sees it.
type Mail struct {
	NewMail
	ID       int64
	Status   sendlog.Status
	Attempts int // attempts made before this one
}

// MailOutcome is what became of one claimed mail: Sent, Failed, or Queued
// again at Next.
type MailOutcome struct {
	ID         int64
	Status     sendlog.Status
	ProviderID string
	Error      string
	Next       time.Time
}

// EnqueueMail queues m. created is false, and id the existing mail's, when
// a mail with m's DedupeKey is already queued or sent.
func (s *Store) EnqueueMail(ctx context.Context, m NewMail) (id int64, created bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		id, created, err = EnqueueMailTx(ctx, tx, s.nowMs(), m)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: enqueue mail: %w", err)
	}
	return id, created, nil
}

// EnqueueMailTx queues m inside a transaction of the store's (the one a
// store method that records what the mail is about runs in), so that the
// mail is queued if and only if that write commits. now is Unix ms.
func EnqueueMailTx(ctx context.Context, tx *sql.Tx, now int64, m NewMail) (id int64, created bool, err error) {
	headers := []byte("{}")
	if len(m.Headers) > 0 {
		if headers, err = json.Marshal(m.Headers); err != nil {
			return 0, false, fmt.Errorf("mail headers: %w", err)
		}
	}
	due := now
	if !m.DueAt.IsZero() {
		due = m.DueAt.UnixMilli()
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO mails (campaign, supporter_id, kind, to_email, to_name, from_name, reply_to,
			subject, body, headers, dedupe_key, status, due_at, created_at, update_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
		m.Campaign, sql.NullInt64{Int64: m.SupporterID, Valid: m.SupporterID != 0}, m.Kind, m.ToEmail, m.ToName, m.FromName, m.ReplyTo,
		m.Subject, m.Body, string(headers), sql.NullString{String: m.DedupeKey, Valid: m.DedupeKey != ""}, sendlog.Queued, due, now, nullID(m.UpdateID)).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("insert mail: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT id FROM mails WHERE dedupe_key = ?`, m.DedupeKey).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("find mail %q: %w", m.DedupeKey, err)
	}
	return id, false, nil
}

// ClaimMails takes up to limit due mails for sending: queued ones, and
// ones a stopped sender left sending once their lease has run out. A
// claimed mail is due again after lease, so that a sender that stops while
// sending it leaves it for the next.
func (s *Store) ClaimMails(ctx context.Context, limit int, lease time.Duration) ([]Mail, error) {
	if limit <= 0 {
		return nil, nil
	}
	now := s.nowMs()
	var out []Mail
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE mails SET status = ?, due_at = ?
			WHERE id IN (SELECT id FROM mails WHERE status IN (?, ?) AND due_at <= ? ORDER BY due_at, id LIMIT ?)
			RETURNING id, campaign, COALESCE(supporter_id, 0), kind, to_email, to_name, from_name, reply_to,
				subject, body, headers, COALESCE(dedupe_key, ''), attempts`,
			sendlog.Sending, now+lease.Milliseconds(), sendlog.Queued, sendlog.Sending, now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Mail
			var headers string
			if err := rows.Scan(&m.ID, &m.Campaign, &m.SupporterID, &m.Kind, &m.ToEmail, &m.ToName, &m.FromName, &m.ReplyTo,
				&m.Subject, &m.Body, &headers, &m.DedupeKey, &m.Attempts); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(headers), &m.Headers); err != nil {
				return fmt.Errorf("mail %d headers: %w", m.ID, err)
			}
			m.Status = sendlog.Sending
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim mails: %w", err)
	}
	// RETURNING keeps no order on PostgreSQL: oldest first, as queued.
	slices.SortFunc(out, func(a, b Mail) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// FinishMail records what became of a claimed mail; every outcome but a
// requeue without an attempt counts one attempt.
func (s *Store) FinishMail(ctx context.Context, o MailOutcome) error {
	now := s.nowMs()
	var err error
	switch o.Status {
	case sendlog.Sent:
		_, err = s.w.ExecContext(ctx, `UPDATE mails SET status = ?, attempts = attempts + 1, sent_at = ?, provider_id = ?, error = NULL
			WHERE id = ?`, sendlog.Sent, now, o.ProviderID, o.ID)
	case sendlog.Queued:
		next := now
		if !o.Next.IsZero() {
			next = o.Next.UnixMilli()
		}
		_, err = s.w.ExecContext(ctx, `UPDATE mails SET status = ?, attempts = attempts + 1, due_at = ?, error = ? WHERE id = ?`,
			sendlog.Queued, next, o.Error, o.ID)
	case sendlog.Failed:
		_, err = s.w.ExecContext(ctx, `UPDATE mails SET status = ?, attempts = attempts + 1, error = ? WHERE id = ?`,
			sendlog.Failed, o.Error, o.ID)
	default:
		return fmt.Errorf("store: finish mail %d: status %q is not sent, queued or failed", o.ID, o.Status)
	}
	if err != nil {
		return fmt.Errorf("store: finish mail %d: %w", o.ID, err)
	}
	return nil
}

// MailState is one mail's status, attempts and last error (for tests and
// the console).
func (s *Store) MailState(ctx context.Context, id int64) (st sendlog.Status, attempts int, lastErr string, err error) {
	var e sql.NullString
	err = s.r.QueryRowContext(ctx, `SELECT status, attempts, error FROM mails WHERE id = ?`, id).Scan(&st, &attempts, &e)
	if err != nil {
		return "", 0, "", fmt.Errorf("store: mail %d: %w", id, err)
	}
	return st, attempts, e.String, nil
}
