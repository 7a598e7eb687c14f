package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// Updates to supporters who asked for them (issue 26, migration 160): the
// update itself, its mails (queued in batches into the supporter mail
// queue, table mails, kind MailKindUpdate) and the supporters' one-click
// unsubscribe. internal/update decides and renders; this file keeps.

// MailKindUpdate is the kind of a supporter mail that carries an update.
const MailKindUpdate = "update"

// updateAudience is who an update goes to, as a condition on supporters:
// they agreed to hear about the campaign, are confirmed (an address that
// never proved itself gets nothing; with OUTCRY_CONFIRM off every supporter
// is), and are neither erased nor unsubscribed.
const updateAudience = `consent_updates <> 0 AND erased_at IS NULL AND unsubscribed_at IS NULL AND status = '` + SupporterConfirmed + `'`

// NewUpdate is an update about to be sent.
type NewUpdate struct {
	Campaign string
	Subject  string
	Body     string
	SentBy   string // who sent it: "console" or "api"
}

// Update is a recorded update.
type Update struct {
	ID         int64
	Campaign   string
	Subject    string
	Body       string
	SentBy     string
	Recipients int // how many it was to reach when sent
	Queued     int // mails queued so far
	Sent       int // mails the provider took
	Cancelled  int // mails cancelled before they went (unsubscribe, erasure)
	Failed     int // mails that failed for good
	CreatedAt  time.Time
	Done       bool // every recipient's mail is queued
}

// UpdateRecipient is a supporter an update's mail goes to.
type UpdateRecipient struct {
	SupporterID int64
	Email       string
	FirstName   string
	LastName    string
}

func updateHash(subject, body string) string {
	h := sha256.Sum256([]byte(subject + "\x00" + body))
	return hex.EncodeToString(h[:])
}

// UpdateAudience counts the supporters of campaign an update sent now
// would reach.
func (s *Store) UpdateAudience(ctx context.Context, campaign string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM supporters WHERE campaign = ? AND `+updateAudience, campaign).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: update audience: %w", err)
	}
	return n, nil
}

// CreateUpdate records an update for the campaign's audience as it is now
// (the supporters written so far). Its mails are queued afterwards, in
// batches (QueueUpdateMails). The same text sent again to the same
// campaign is the same update: created is false and the first is
// returned, and nobody is mailed twice.
func (s *Store) CreateUpdate(ctx context.Context, u NewUpdate) (Update, bool, error) {
	hash := updateHash(u.Subject, u.Body)
	var id int64
	created := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var last int64
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM supporters WHERE campaign = ?`, u.Campaign).Scan(&last); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM supporters WHERE campaign = ? AND id <= ? AND `+updateAudience,
			u.Campaign, last).Scan(&n); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO updates (campaign, subject, body, text_hash, sent_by, recipients, last_supporter, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign, text_hash) DO NOTHING RETURNING id`,
			u.Campaign, u.Subject, u.Body, hash, u.SentBy, n, last, s.nowMs()).Scan(&id)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM updates WHERE campaign = ? AND text_hash = ?`, u.Campaign, hash).Scan(&id)
	})
	if err != nil {
		return Update{}, false, fmt.Errorf("store: create update: %w", err)
	}
	up, _, err := s.GetUpdate(ctx, id)
	return up, created, err
}

const updateCols = `u.id, u.campaign, u.subject, u.body, u.sent_by, u.recipients, u.queued, u.created_at, u.queued_through >= u.last_supporter,
	(SELECT COUNT(*) FROM mails m WHERE m.update_id = u.id AND m.status = '` + string(sendlog.Sent) + `'),
	(SELECT COUNT(*) FROM mails m WHERE m.update_id = u.id AND m.status = '` + string(sendlog.Cancelled) + `'),
	(SELECT COUNT(*) FROM mails m WHERE m.update_id = u.id AND m.status = '` + string(sendlog.Failed) + `')`

func scanUpdate(sc interface{ Scan(...any) error }) (Update, error) {
	var u Update
	var created int64
	if err := sc.Scan(&u.ID, &u.Campaign, &u.Subject, &u.Body, &u.SentBy, &u.Recipients, &u.Queued, &created, &u.Done,
		&u.Sent, &u.Cancelled, &u.Failed); err != nil {
		return u, err
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	return u, nil
}

// GetUpdate reads one update with its mails' figures.
func (s *Store) GetUpdate(ctx context.Context, id int64) (Update, bool, error) {
	u, err := scanUpdate(s.r.QueryRowContext(ctx, `SELECT `+updateCols+` FROM updates u WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("store: update %d: %w", id, err)
	}
	return u, true, nil
}

// Updates lists a campaign's updates, newest first, at most limit.
func (s *Store) Updates(ctx context.Context, campaign string, limit int) ([]Update, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+updateCols+` FROM updates u WHERE u.campaign = ? ORDER BY u.id DESC LIMIT ?`, campaign, limit)
	if err != nil {
		return nil, fmt.Errorf("store: updates: %w", err)
	}
	defer rows.Close()
	out := []Update{}
	for rows.Next() {
		u, err := scanUpdate(rows)
		if err != nil {
			return nil, fmt.Errorf("store: updates: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UnfinishedUpdates are the ids of updates whose mails are not all queued
// yet, oldest first.
func (s *Store) UnfinishedUpdates(ctx context.Context) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM updates WHERE queued_through < last_supporter ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished updates: %w", err)
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished updates: %w", err)
	}
	return ids, nil
}

// QueueUpdateMails queues, in one short transaction, the mails of update
// id to up to limit more of its recipients: the supporters of its
// audience, as it is now (who unsubscribed or was erased since gets
// nothing), written before it was sent. mail renders each one. Each mail's
// dedupe key names the update and the supporter, so that nobody gets an
// update twice, whoever queues it and however often. n is how many were
// queued; done is true once every recipient's mail is.
func (s *Store) QueueUpdateMails(ctx context.Context, id int64, limit int,
	mail func(u Update, r UpdateRecipient) (NewMail, error)) (n int, done bool, err error) {
	if limit <= 0 {
		return 0, false, nil
	}
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		n, done = 0, false
		var u Update
		var last, through int64
		err := tx.QueryRowContext(ctx, `SELECT id, campaign, subject, body, sent_by, recipients, last_supporter, queued_through
			FROM updates WHERE id = ?`, id).Scan(&u.ID, &u.Campaign, &u.Subject, &u.Body, &u.SentBy, &u.Recipients, &last, &through)
		if err != nil {
			return err
		}
		if through >= last {
			done = true
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, email, first_name, last_name FROM supporters
			WHERE campaign = ? AND id > ? AND id <= ? AND `+updateAudience+` ORDER BY id LIMIT ?`, u.Campaign, through, last, limit)
		if err != nil {
			return err
		}
		var rs []UpdateRecipient
		for rows.Next() {
			var r UpdateRecipient
			if err := rows.Scan(&r.SupporterID, &r.Email, &r.FirstName, &r.LastName); err != nil {
				rows.Close()
				return err
			}
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range rs {
			m, err := mail(u, r)
			if err != nil {
				return err
			}
			m.Campaign, m.SupporterID, m.Kind, m.ToEmail, m.UpdateID = u.Campaign, r.SupporterID, MailKindUpdate, r.Email, u.ID
			m.DedupeKey = "update:" + strconv.FormatInt(u.ID, 10) + ":" + strconv.FormatInt(r.SupporterID, 10)
			_, created, err := EnqueueMailTx(ctx, tx, now, m)
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		next := last
		if len(rs) == limit {
			next = rs[len(rs)-1].SupporterID
		}
		done = next >= last
		_, err = tx.ExecContext(ctx, `UPDATE updates SET queued_through = ?, queued = queued + ? WHERE id = ? AND queued_through < ?`,
			next, n, id, next)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: queue update %d: %w", id, err)
	}
	return n, done, nil
}

// Unsubscribe records that a supporter of campaign wants no more updates
// (once: a second unsubscribe keeps the first time) and cancels, in the
// same transaction, their update mails still waiting, and those of a
// published reply. ok is false when there is no such supporter in that
// campaign, or they were erased.
func (s *Store) Unsubscribe(ctx context.Context, supporterID int64, campaign string) (at time.Time, ok bool, err error) {
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE supporters SET unsubscribed_at = COALESCE(unsubscribed_at, ?)
			WHERE id = ? AND campaign = ? AND erased_at IS NULL`, now, supporterID, campaign)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil
		}
		ok = true
		var ms int64
		if err := tx.QueryRowContext(ctx, `SELECT unsubscribed_at FROM supporters WHERE id = ?`, supporterID).Scan(&ms); err != nil {
			return err
		}
		at = time.UnixMilli(ms).UTC()
		_, err = tx.ExecContext(ctx, `UPDATE mails SET status = ? WHERE supporter_id = ? AND status = ? AND kind IN (?, ?)`,
			sendlog.Cancelled, supporterID, sendlog.Queued, MailKindUpdate, MailKindReplyPublished)
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: unsubscribe: %w", err)
	}
	return at, ok, nil
}

// MailKindReplyPublished is the kind of the mail that tells a supporter
// who agreed to updates of a reply published to their digest.
const MailKindReplyPublished = "reply-published"

// QueuedMails counts the supporter mails of a kind still waiting to go
// (queued, or claimed by a sender).
func (s *Store) QueuedMails(ctx context.Context, kind string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM mails WHERE kind = ? AND status IN (?, ?)`,
		kind, sendlog.Queued, sendlog.Sending).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: queued mails: %w", err)
	}
	return n, nil
}
