package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Receipt is what a supporter's private receipt page shows: their letter
// and, per decision-maker, what became of their copy. It is read through
// Receipt alone, so that a change of the messages table changes one query.
type Receipt struct {
	SupporterID int64
	Campaign    string
	FirstName   string
	LastName    string
	Email       string
	Status      string // SupporterConfirmed or SupporterUnconfirmed
	CreatedAt   time.Time
	Erased      bool
	// The letter as the supporter wrote it ("" once its text is deleted
	// after the retention period).
	Subject, Body string
	Messages      []ReceiptMessage
	// CopySentAt is when a copy was last emailed to the supporter (nil:
	// never): the page says how long ago when another is asked too soon.
	CopySentAt *time.Time
}

// ReceiptMessage is one decision-maker's copy of the letter.
type ReceiptMessage struct {
	TargetID   string
	TargetName string
	Status     string // the send log's status: queued, sending, sent, delivered…
	QueuedAt   time.Time
	SentAt     *time.Time // when the provider accepted it
	UpdatedAt  time.Time  // the last change of status (e.g. delivered)
}

// Receipt reads a supporter's receipt by id; ok is false when there is no
// such supporter (never written, or an unconfirmed letter purged).
func (s *Store) Receipt(ctx context.Context, supporterID int64) (r Receipt, ok bool, err error) {
	var created int64
	var erased, copySent sql.NullInt64
	err = s.r.QueryRowContext(ctx, `SELECT id, campaign, first_name, last_name, email, status, created_at, erased_at, subject, body, copy_sent_at
		FROM supporters WHERE id = ?`, supporterID).Scan(&r.SupporterID, &r.Campaign, &r.FirstName, &r.LastName,
		&r.Email, &r.Status, &created, &erased, &r.Subject, &r.Body, &copySent)
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, fmt.Errorf("store: receipt %d: %w", supporterID, err)
	}
	r.CreatedAt, r.Erased, r.CopySentAt = time.UnixMilli(created).UTC(), erased.Valid, msToTime(copySent)
	// A message's target name is recorded when it is claimed; before, the
	// caller names the target from targets.yaml. A message queued before
	// letters were stored once kept its whole copy (rendered).
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, COALESCE(target_name, ''), status, queued_at, sent_at, updated_at,
			COALESCE(rendered, '')
		FROM messages WHERE supporter_id = ? ORDER BY id`, supporterID)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("store: receipt %d: %w", supporterID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m ReceiptMessage
		var queued, updated int64
		var sent sql.NullInt64
		var rendered string
		if err := rows.Scan(&m.TargetID, &m.TargetName, &m.Status, &queued, &sent, &updated, &rendered); err != nil {
			return Receipt{}, false, fmt.Errorf("store: receipt %d: %w", supporterID, err)
		}
		m.QueuedAt, m.SentAt, m.UpdatedAt = time.UnixMilli(queued).UTC(), msToTime(sent), time.UnixMilli(updated).UTC()
		if r.Body == "" && rendered != "" {
			r.Body = rendered
		}
		r.Messages = append(r.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return Receipt{}, false, fmt.Errorf("store: receipt %d: %w", supporterID, err)
	}
	return r, true, nil
}
