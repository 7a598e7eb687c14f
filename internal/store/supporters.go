package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/sendlog"
)

// HourCount is the number of letters in one hour.
type HourCount struct {
	Hour  time.Time
	Count int
}

// LettersPerHour returns the supporters who wrote in each hour of the
// campaign's life, from the first letter to now, with empty hours as zero.
func (s *Store) LettersPerHour(ctx context.Context, campaign string) ([]HourCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT created_at / 3600000, COUNT(*) FROM supporters
		WHERE campaign = ? GROUP BY created_at / 3600000 ORDER BY 1`, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: letters per hour: %w", err)
	}
	defer rows.Close()
	counts := map[int64]int{}
	first := int64(-1)
	for rows.Next() {
		var h int64
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			return nil, fmt.Errorf("store: letters per hour: %w", err)
		}
		if first < 0 {
			first = h
		}
		counts[h] = n
	}
	if err := rows.Err(); err != nil || first < 0 {
		return nil, err
	}
	last := s.nowMs() / 3600000
	if last-first > 24*366 { // bound the chart to a year of hours
		first = last - 24*366
	}
	out := make([]HourCount, 0, last-first+1)
	for h := first; h <= last; h++ {
		out = append(out, HourCount{Hour: time.UnixMilli(h * 3600000).UTC(), Count: counts[h]})
	}
	return out, nil
}

// SupporterRow is one supporter, for export.
type SupporterRow struct {
	ID             int64
	Email          string
	FirstName      string
	LastName       string
	Postcode       string
	ConsentUpdates bool
	ConsentVersion string
	PrivacyVersion string
	Status         string
	Source         string
	CreatedAt      time.Time
	// Updates (issue 26): how many updates the provider took for them,
	// and when they unsubscribed (nil: they have not).
	UpdatesReceived int
	UnsubscribedAt  *time.Time
}

// supporterRowCols are the columns scanSupporterRow reads, of supporters s.
const supporterRowCols = `s.id, s.email, s.first_name, s.last_name, s.postcode, s.consent_updates,
	s.consent_version, s.privacy_version, s.status, s.source, s.created_at, s.unsubscribed_at,
	(SELECT COUNT(*) FROM mails m WHERE m.supporter_id = s.id AND m.update_id IS NOT NULL AND m.status = '` + string(sendlog.Sent) + `')`

func scanSupporterRow(sc interface{ Scan(...any) error }) (SupporterRow, error) {
	var r SupporterRow
	var created int64
	var unsub sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Email, &r.FirstName, &r.LastName, &r.Postcode, &r.ConsentUpdates,
		&r.ConsentVersion, &r.PrivacyVersion, &r.Status, &r.Source, &created, &unsub, &r.UpdatesReceived); err != nil {
		return r, err
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	r.UnsubscribedAt = msToTime(unsub)
	return r, nil
}

// EachSupporter calls fn for each supporter of a campaign who has not been
// erased, in the order they wrote, reading row by row.
func (s *Store) EachSupporter(ctx context.Context, campaign string, fn func(SupporterRow) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT `+supporterRowCols+`
		FROM supporters s WHERE s.campaign = ? AND s.erased_at IS NULL ORDER BY s.id`, campaign)
	if err != nil {
		return fmt.Errorf("store: supporters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanSupporterRow(rows)
		if err != nil {
			return fmt.Errorf("store: supporters: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: supporters: %w", err)
	}
	return nil
}

// ErasedPrefix starts the email column of an erased supporter: the rest is
// a keyed hash of the address, so a repeat is still recognized (dedupe)
// while the address itself is gone.
const ErasedPrefix = "erased:"

// erasedEmail is what an erased supporter's address is replaced with:
// HMAC-SHA256 of the normalized address under a key kept in this database.
func (s *Store) erasedEmail(ctx context.Context, email string) (string, error) {
	key, err := s.Secret(ctx, "erase")
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(email))
	return ErasedPrefix + hex.EncodeToString(m.Sum(nil)), nil
}

// IsErased reports whether this (normalized) address, or an address with
// the same deduplication key (key; "" = email), wrote to the campaign and
// was erased since.
//
// The usual case, a campaign nobody was erased from, is answered from
// memory (erasedIn): the sign path then makes no query for it.
func (s *Store) IsErased(ctx context.Context, campaign, email, key string) (bool, error) {
	any, err := s.erasedIn(ctx, campaign)
	if err != nil {
		return false, err
	}
	if !any {
		return false, nil // the usual case: nobody erased, no hashing
	}
	hashed, err := s.erasedEmail(ctx, email)
	if err != nil {
		return false, err
	}
	hashedKey, err := s.erasedEmail(ctx, keyOr(key, email))
	if err != nil {
		return false, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM supporters WHERE campaign = ? AND (email = ? OR email_key = ?)`,
		campaign, hashed, hashedKey).Scan(&n); err != nil {
		return false, fmt.Errorf("store: erased check: %w", err)
	}
	return n > 0, nil
}

// SupporterRecord is everything held about one supporter of one campaign.
type SupporterRecord struct {
	ID             int64           `json:"id"`
	Campaign       string          `json:"campaign"`
	Email          string          `json:"email"`
	FirstName      string          `json:"first_name"`
	LastName       string          `json:"last_name"`
	Postcode       string          `json:"postcode"`
	ConsentUpdates bool            `json:"consent_updates"`
	ConsentVersion string          `json:"consent_version"`
	PrivacyVersion string          `json:"privacy_version"`
	Status         string          `json:"status"`
	Source         string          `json:"source"`
	CreatedAt      int64           `json:"created_at"` // unix ms; also when consent was given
	ConfirmedAt    *int64          `json:"confirmed_at,omitempty"`
	ErasedAt       *int64          `json:"erased_at,omitempty"`
	UnsubscribedAt *int64          `json:"unsubscribed_at,omitempty"` // from updates (issue 26)
	Messages       []MessageRecord `json:"messages"`
}

// MessageRecord is one message of a supporter, with its delivery events.
type MessageRecord struct {
	ID                int64         `json:"id"`
	PublicID          string        `json:"public_id"`
	TargetID          string        `json:"target_id"`
	TargetName        string        `json:"target_name"`
	TargetEmail       string        `json:"target_email"`
	Subject           string        `json:"subject"`
	Body              string        `json:"body"`
	Status            string        `json:"status"`
	Attempts          int           `json:"attempts"`
	LastError         string        `json:"last_error"`
	ProviderMessageID string        `json:"provider_message_id"`
	QueuedAt          int64         `json:"queued_at"`
	SentAt            *int64        `json:"sent_at,omitempty"`
	UpdatedAt         int64         `json:"updated_at"`
	Events            []EventRecord `json:"events"`
}

// EventRecord is one delivery event of a message.
type EventRecord struct {
	EventID    string `json:"event_id"`
	Event      string `json:"event"`
	Type       string `json:"type"`
	Reason     string `json:"reason"`
	OccurredAt int64  `json:"occurred_at"`
	ReceivedAt int64  `json:"received_at"`
}

// keyOr is a deduplication key, or the address when none is given.
func keyOr(key, email string) string {
	if key == "" {
		return email
	}
	return key
}

// SupporterRecords returns everything held about a normalized address, in
// every campaign: the supporters stored under it and under its
// deduplication key (key; "" = email), the variants of one mailbox.
func (s *Store) SupporterRecords(ctx context.Context, email, key string) ([]SupporterRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, campaign, email, first_name, last_name, postcode, consent_updates,
			consent_version, privacy_version, status, source, created_at, confirmed_at, erased_at, unsubscribed_at
		FROM supporters WHERE email = ? OR email_key = ? ORDER BY id`, email, keyOr(key, email))
	if err != nil {
		return nil, fmt.Errorf("store: supporter records: %w", err)
	}
	var out []SupporterRecord
	for rows.Next() {
		var r SupporterRecord
		var confirmed, erased, unsub sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Campaign, &r.Email, &r.FirstName, &r.LastName, &r.Postcode, &r.ConsentUpdates,
			&r.ConsentVersion, &r.PrivacyVersion, &r.Status, &r.Source, &r.CreatedAt, &confirmed, &erased, &unsub); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: supporter records: %w", err)
		}
		r.ConfirmedAt, r.ErasedAt, r.UnsubscribedAt = nullPtr(confirmed), nullPtr(erased), nullPtr(unsub)
		out = append(out, r)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: supporter records: %w", err)
	}
	for i := range out {
		if out[i].Messages, err = s.messageRecords(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) messageRecords(ctx context.Context, supporterID int64) ([]MessageRecord, error) {
	// The letter is stored once, on the supporter; each message's body is
	// that letter (or, for a message queued before it was stored once, the
	// whole copy that was kept).
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, COALESCE(m.public_id, ''), m.target_id, COALESCE(m.target_name, ''),
			COALESCE(m.target_email, ''), s.subject, COALESCE(m.rendered, s.body), m.status,
			m.attempts, m.last_error, m.provider_message_id, m.queued_at, m.sent_at, m.updated_at
		FROM messages m JOIN supporters s ON s.id = m.supporter_id WHERE m.supporter_id = ? ORDER BY m.id`, supporterID)
	if err != nil {
		return nil, fmt.Errorf("store: message records: %w", err)
	}
	out := []MessageRecord{}
	for rows.Next() {
		var m MessageRecord
		var sent sql.NullInt64
		if err := rows.Scan(&m.ID, &m.PublicID, &m.TargetID, &m.TargetName, &m.TargetEmail, &m.Subject, &m.Body, &m.Status,
			&m.Attempts, &m.LastError, &m.ProviderMessageID, &m.QueuedAt, &sent, &m.UpdatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: message records: %w", err)
		}
		m.SentAt = nullPtr(sent)
		out = append(out, m)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: message records: %w", err)
	}
	for i := range out {
		evs, err := s.r.QueryContext(ctx, `SELECT event_id, event, type, reason, occurred_at, received_at
			FROM message_events WHERE message_id = ? ORDER BY occurred_at, id`, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("store: event records: %w", err)
		}
		out[i].Events = []EventRecord{}
		for evs.Next() {
			var e EventRecord
			if err := evs.Scan(&e.EventID, &e.Event, &e.Type, &e.Reason, &e.OccurredAt, &e.ReceivedAt); err != nil {
				evs.Close()
				return nil, fmt.Errorf("store: event records: %w", err)
			}
			out[i].Events = append(out[i].Events, e)
		}
		if err := evs.Close(); err != nil {
			return nil, fmt.Errorf("store: event records: %w", err)
		}
	}
	return out, nil
}

func nullPtr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

// EraseSupporter removes the personal data and letter text of a normalized
// address in every campaign: names, postcode and the address itself (kept
// only as a keyed hash, so a repeat is still recognized), the subject,
// body and error text of their messages, and the free text of their
// delivery events. Messages not yet sent are cancelled. The rows stay, so
// counts and the record that letters were sent remain right. It returns
// how many supporter rows were erased. The supporters stored under the
// address's deduplication key (key; "" = email) are erased too, and the
// key is kept hashed as well, so that a variant is also recognized.
func (s *Store) EraseSupporter(ctx context.Context, email, key string) (int, error) {
	key = keyOr(key, email)
	hashed, err := s.erasedEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	hashedKey, err := s.erasedEmail(ctx, key)
	if err != nil {
		return 0, err
	}
	now := s.nowMs()
	n := 0
	defer s.forgetErased() // also when the erase fails half-way: ask again
	err = s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM supporters WHERE email = ? OR email_key = ?`, email, key)
		if err != nil {
			return err
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return err
		}
		for _, id := range ids {
			// The event is read before the row is erased: a receiver
			// marked for personal data learns whose record to erase.
			ev, err := supporterEvent(ctx, tx, hookevent.SupporterErased, id, now)
			if err != nil {
				return err
			}
			if err := dropHooksOf(ctx, tx, id); err != nil {
				return err
			}
			if err := appendHook(ctx, tx, ev, now); err != nil {
				return err
			}
			for _, q := range []string{
				`UPDATE message_events SET reason = '' WHERE message_id IN (SELECT id FROM messages WHERE supporter_id = ?)`,
				`UPDATE messages SET status = ` + sqlCancelled + `, lease_owner = NULL
					WHERE supporter_id = ? AND status IN (` + sqlUnconfirmed + `, ` + sqlQueued + `, ` + sqlSending + `, ` + sqlDeferred + `)`,
				`UPDATE messages SET rendered = NULL, last_error = '' WHERE supporter_id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE supporter_id = ?`, now, id); err != nil {
				return err
			}
			if err := eraseReplies(ctx, tx, id); err != nil {
				return err
			}
			// A row stored under the key keeps the key hashed; a row found
			// by its address alone (stored before keys) its address hashed,
			// so that two rows of one campaign never share a key.
			if _, err := tx.ExecContext(ctx, `UPDATE supporters SET email = ?,
				email_key = CASE WHEN email_key = ? THEN ? ELSE ? END,
				first_name = '', last_name = '', postcode = '', subject = '', body = '', erased_at = ? WHERE id = ?`,
				hashed, key, hashedKey, hashed, now, id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: erase supporter: %w", err)
	}
	if err := s.checkpoint(ctx); err != nil {
		return n, fmt.Errorf("store: erase supporter: %w", err)
	}
	return n, nil
}

// checkpoint copies the WAL into the database file and truncates it, so
// that the old versions of erased rows it holds are gone from the disk
// (secure_delete, set on every connection, zeroes them in the main file).
// It waits for readers (busy_timeout) and reports a checkpoint that could
// not complete.
//
// On PostgreSQL, VACUUM frees the space of the erased rows' old versions
// for reuse; their bytes go when it is reused (docs/instances.md, "Backups,
// erasure and moving from SQLite").
func (s *Store) checkpoint(ctx context.Context) error {
	if s.d.pg {
		if _, err := s.w.ExecContext(ctx, `VACUUM supporters, messages, message_events`); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		return nil
	}
	if s.cp != nil {
		s.cp.mu.Lock()
		defer s.cp.mu.Unlock()
	}
	// A reader that began before the erasure may still need the WAL's old
	// pages: try again for a little while before reporting it.
	for try := 0; ; try++ {
		var busy, logFrames, done int
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if try == 4 {
			return errors.New("checkpoint: readers kept the WAL busy (the rows are erased; their old versions leave the WAL at the next checkpoint)")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checkpoint: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// erasedCheckEvery is how long "nobody was erased from this campaign" is
// believed without asking the database again (an erase by this process is
// seen at once; one by another instance sharing the database within this:
// a console change is in force on every instance within 5 s).
const erasedCheckEvery = 4 * time.Second

// erasedCache remembers, per campaign, that nobody was erased from it.
type erasedCache struct {
	mu   sync.Mutex
	none map[string]time.Time // campaign → when "none erased" was read
}

// erasedIn reports whether any supporter of the campaign was erased.
func (s *Store) erasedIn(ctx context.Context, campaign string) (bool, error) {
	c := &s.erased
	c.mu.Lock()
	at, ok := c.none[campaign]
	c.mu.Unlock()
	if ok && time.Since(at) < erasedCheckEvery {
		return false, nil
	}
	var any int
	if err := s.r.QueryRowContext(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM supporters WHERE campaign = ? AND erased_at IS NOT NULL) THEN 1 ELSE 0 END`, campaign).Scan(&any); err != nil {
		return false, fmt.Errorf("store: erased check: %w", err)
	}
	c.mu.Lock()
	if c.none == nil {
		c.none = map[string]time.Time{}
	}
	if any == 0 {
		c.none[campaign] = time.Now()
	} else {
		delete(c.none, campaign)
	}
	c.mu.Unlock()
	return any == 1, nil
}

// forgetErased drops what the cache believes (an erase happened).
func (s *Store) forgetErased() {
	s.erased.mu.Lock()
	s.erased.none = nil
	s.erased.mu.Unlock()
}
