package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Settings keys used by the organizer console.
const (
	settingPause         = "campaign_pause"
	settingLetterSubject = "letter_subject:"
	settingLetterBody    = "letter_body:"
)

// Setting returns a stored setting; ok is false when it was never set.
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return value, true, nil
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, s.nowMs())
	if err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// DeleteSetting removes a setting.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return fmt.Errorf("store: delete setting %s: %w", key, err)
	}
	return nil
}

// LetterDefaults returns the default subject and body edited in the console
// for a campaign; ok is false when the organizer has not edited them.
func (s *Store) LetterDefaults(ctx context.Context, campaign string) (subject, body string, ok bool, err error) {
	subject, okS, err := s.Setting(ctx, settingLetterSubject+campaign)
	if err != nil {
		return "", "", false, err
	}
	body, okB, err := s.Setting(ctx, settingLetterBody+campaign)
	if err != nil {
		return "", "", false, err
	}
	return subject, body, okS && okB, nil
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

// ClearLetterDefaults removes a campaign's edited default letter (it now
// lives in the campaign itself).
func (s *Store) ClearLetterDefaults(ctx context.Context, campaign string) error {
	for _, k := range []string{settingLetterSubject + campaign, settingLetterBody + campaign} {
		if err := s.DeleteSetting(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// CampaignPause returns whether the organizer paused sending, and why.
func (s *Store) CampaignPause(ctx context.Context) (paused bool, reason string, err error) {
	reason, paused, err = s.Setting(ctx, settingPause)
	return paused, reason, err
}

// SetCampaignPause records (paused=true) or clears the organizer's pause.
func (s *Store) SetCampaignPause(ctx context.Context, paused bool, reason string) error {
	if !paused {
		return s.DeleteSetting(ctx, settingPause)
	}
	return s.SetSetting(ctx, settingPause, reason)
}

// TargetState is the per-target state kept in the database.
type TargetState struct {
	TargetID       string
	Paused         bool
	NeedsAttention bool
	AttentionNote  string
}

// TargetStates returns the state of every target that has one.
func (s *Store) TargetStates(ctx context.Context) (map[string]TargetState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, paused, needs_attention, attention_note FROM target_state`)
	if err != nil {
		return nil, fmt.Errorf("store: target states: %w", err)
	}
	defer rows.Close()
	out := map[string]TargetState{}
	for rows.Next() {
		var ts TargetState
		if err := rows.Scan(&ts.TargetID, &ts.Paused, &ts.NeedsAttention, &ts.AttentionNote); err != nil {
			return nil, fmt.Errorf("store: target states: %w", err)
		}
		out[ts.TargetID] = ts
	}
	return out, rows.Err()
}

// SetTargetPaused pauses or resumes sending to one target.
func (s *Store) SetTargetPaused(ctx context.Context, targetID string, paused bool) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO target_state (target_id, paused, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (target_id) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
		targetID, paused, s.nowMs())
	if err != nil {
		return fmt.Errorf("store: pause target %s: %w", targetID, err)
	}
	return nil
}

// ClearNeedsAttention clears a target's needs-attention flag and note.
func (s *Store) ClearNeedsAttention(ctx context.Context, targetID string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE target_state SET needs_attention = 0, attention_note = '', updated_at = ?
		WHERE target_id = ?`, s.nowMs(), targetID)
	if err != nil {
		return fmt.Errorf("store: clear attention %s: %w", targetID, err)
	}
	return nil
}

// TargetStatusCounts returns, per target, the number of messages in each
// status, read from message_counts (kept exact by triggers: migration 005).
func (s *Store) TargetStatusCounts(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, status, SUM(n) FROM message_counts
		WHERE n > 0 GROUP BY target_id, status`)
	if err != nil {
		return nil, fmt.Errorf("store: target status counts: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var id, st string
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, fmt.Errorf("store: target status counts: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]int{}
		}
		out[id][st] = n
	}
	return out, rows.Err()
}

// MessageFilter selects messages in the send log. Zero fields do not filter.
type MessageFilter struct {
	Campaign string    // campaign slug; "" = every campaign
	Status   string    // exact status
	Target   string    // target id
	From     time.Time // queued at or after
	To       time.Time // queued before
	Email    string    // supporter email, normalized
	Match    string    // part of a supporter's name or email (see matchQuery)
	Before   int64     // keyset cursor: only messages with a smaller id
	Limit    int       // 0 = no limit (exports)

	supporters [2]int64 // with Match: only supporters with lo < id <= hi (hi 0: all); see MessagesMatching
}

// MessageRow is one line of the send log.
type MessageRow struct {
	ID                int64
	Campaign          string
	TargetID          string
	TargetName        string
	TargetEmail       string
	SupporterEmail    string
	Status            string
	Attempts          int
	LastError         string
	ProviderMessageID string
	QueuedAt          time.Time
	SentAt            *time.Time
	UpdatedAt         time.Time
	DigestID          int64 // the digest it was sent in (0: sent alone, or not yet)
}

// The target's name and address are recorded when a message is claimed;
// before that the send log shows the target's id.
const messageCols = `m.id, m.campaign, m.target_id, COALESCE(m.target_name, m.target_id), COALESCE(m.target_email, ''), s.email, m.status, m.attempts, m.last_error,
	m.provider_message_id, m.queued_at, m.sent_at, m.updated_at, COALESCE(m.digest_id, 0)`

// messagesQuery builds the send log query for f, newest first by id.
func messagesQuery(f MessageFilter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	// m is a column of messages; with a name match (matchQuery) the
	// supporters lead and these conditions must not pick an index of
	// messages over the supporter's (+ turns the index off for a term).
	m := func(col string) string {
		if f.Match != "" {
			return "+m." + col
		}
		return "m." + col
	}
	if f.Campaign != "" {
		add(m("campaign")+" = ?", f.Campaign)
	}
	if f.Status != "" {
		add(m("status")+" = ?", f.Status)
	}
	if f.Target != "" {
		add(m("target_id")+" = ?", f.Target)
	}
	// A date range becomes an id range found with one seek each in the
	// queued_at index (ids grow with queued_at: both are set at insert), so
	// the page still walks ids newest first with no sort; the exact
	// conditions stay, without the index (+), so no row outside the range
	// is ever shown.
	if !f.From.IsZero() {
		add(m("id")+" >= (SELECT id FROM messages WHERE queued_at >= ? ORDER BY queued_at LIMIT 1) AND +m.queued_at >= ?",
			f.From.UnixMilli(), f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add(m("id")+" <= (SELECT id FROM messages WHERE queued_at < ? ORDER BY queued_at DESC LIMIT 1) AND +m.queued_at < ?",
			f.To.UnixMilli(), f.To.UnixMilli())
	}
	switch {
	case f.Email != "" && f.Campaign != "":
		add("m.supporter_id = (SELECT id FROM supporters WHERE campaign = ? AND email = ?)", f.Campaign, f.Email)
	case f.Email != "": // one seek per campaign in the (campaign, email) index
		add("m.supporter_id IN (SELECT id FROM supporters WHERE campaign IN (SELECT slug FROM campaigns) AND email = ?)", f.Email)
	}
	if f.Before > 0 {
		add(m("id")+" < ?", f.Before)
	}
	from, order := ` FROM messages m JOIN supporters s ON s.id = m.supporter_id`, " ORDER BY m.id DESC"
	if f.Match != "" {
		// A part of a name or address: see matchQuery.
		var a []any
		from, order, a = matchQuery(f)
		where = append(a[0].([]string), where...)
		args = append(a[1:], args...)
	}
	q := `SELECT ` + messageCols + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += order
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return q, args
}

func scanMessageRow(rows *sql.Rows) (MessageRow, error) {
	var m MessageRow
	var queued, updated int64
	var sent sql.NullInt64
	err := rows.Scan(&m.ID, &m.Campaign, &m.TargetID, &m.TargetName, &m.TargetEmail, &m.SupporterEmail, &m.Status, &m.Attempts,
		&m.LastError, &m.ProviderMessageID, &queued, &sent, &updated, &m.DigestID)
	m.QueuedAt = time.UnixMilli(queued).UTC()
	m.UpdatedAt = time.UnixMilli(updated).UTC()
	m.SentAt = msToTime(sent)
	return m, err
}

// Messages returns a page of the send log, newest first.
func (s *Store) Messages(ctx context.Context, f MessageFilter) ([]MessageRow, error) {
	var out []MessageRow
	err := s.EachMessage(ctx, f, func(m MessageRow) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// EachMessage calls fn for every message matching f, newest first, reading
// row by row (exports never hold the whole log in memory).
func (s *Store) EachMessage(ctx context.Context, f MessageFilter, fn func(MessageRow) error) error {
	q, args := messagesQuery(f)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessageRow(rows)
		if err != nil {
			return fmt.Errorf("store: messages: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: messages: %w", err)
	}
	return nil
}

// MessageEvent is one delivery event reported by the provider.
type MessageEvent struct {
	Event      string
	Type       string
	Reason     string
	OccurredAt time.Time
	ReceivedAt time.Time
}

// MessageDetail is one message with its text and delivery events.
type MessageDetail struct {
	MessageRow
	PublicID      string
	Campaign      string
	SupporterName string
	Subject       string
	Body          string // rendered from Copy by the caller (the store has no templates)
	Copy          Copy
	NextAttemptAt time.Time
	Events        []MessageEvent
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// Message returns one message with its delivery events.
func (s *Store) Message(ctx context.Context, id int64) (*MessageDetail, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+messageCols+`, COALESCE(m.public_id, ''), m.campaign, s.first_name || ' ' || s.last_name,
			s.subject, s.body, s.first_name, s.last_name, s.postcode, COALESCE(m.target_title, ''), COALESCE(m.salutation, ''),
			COALESCE(m.rendered, ''), m.next_attempt_at
		FROM messages m JOIN supporters s ON s.id = m.supporter_id WHERE m.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("store: message %d: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: message %d: %w", id, err)
		}
		return nil, ErrNotFound
	}
	var d MessageDetail
	var queued, updated, next int64
	var sent sql.NullInt64
	m := &d.MessageRow
	if err := rows.Scan(&m.ID, &m.Campaign, &m.TargetID, &m.TargetName, &m.TargetEmail, &m.SupporterEmail, &m.Status, &m.Attempts,
		&m.LastError, &m.ProviderMessageID, &queued, &sent, &updated, &m.DigestID,
		&d.PublicID, &d.Campaign, &d.SupporterName, &d.Copy.Subject, &d.Copy.Body, &d.Copy.FirstName, &d.Copy.LastName,
		&d.Copy.Postcode, &d.Copy.Title, &d.Copy.Salutation, &d.Copy.Rendered, &next); err != nil {
		return nil, fmt.Errorf("store: message %d: %w", id, err)
	}
	rows.Close()
	m.QueuedAt, m.UpdatedAt, m.SentAt = time.UnixMilli(queued).UTC(), time.UnixMilli(updated).UTC(), msToTime(sent)
	d.Subject, d.Copy.TargetName = d.Copy.Subject, m.TargetName
	d.NextAttemptAt = time.UnixMilli(next).UTC()
	ev, err := s.r.QueryContext(ctx, `SELECT event, type, reason, occurred_at, received_at FROM message_events
		WHERE message_id = ? ORDER BY occurred_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: message %d events: %w", id, err)
	}
	defer ev.Close()
	for ev.Next() {
		var e MessageEvent
		var occ, rec int64
		if err := ev.Scan(&e.Event, &e.Type, &e.Reason, &occ, &rec); err != nil {
			return nil, fmt.Errorf("store: message %d events: %w", id, err)
		}
		e.OccurredAt, e.ReceivedAt = time.UnixMilli(occ).UTC(), time.UnixMilli(rec).UTC()
		d.Events = append(d.Events, e)
	}
	return &d, ev.Err()
}

// RetryMessage puts a failed message back in the queue, due now; its
// attempts are kept. It reports whether the message was failed.
func (s *Store) RetryMessage(ctx context.Context, id int64) (bool, error) {
	now := s.nowMs()
	// A letter of a failed digest leaves it: it goes alone or in a new one.
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'queued', next_attempt_at = ?, lease_owner = NULL, digest_id = NULL, updated_at = ?
		WHERE id = ? AND status = 'failed'`, now, now, id)
	if err != nil {
		return false, fmt.Errorf("store: retry message %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RetryFailed puts every failed message to a target back in the queue and
// returns how many.
func (s *Store) RetryFailed(ctx context.Context, targetID string) (int, error) {
	now := s.nowMs()
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'queued', next_attempt_at = ?, lease_owner = NULL, digest_id = NULL, updated_at = ?
		WHERE target_id = ? AND status = 'failed'`, now, now, targetID)
	if err != nil {
		return 0, fmt.Errorf("store: retry failed for %s: %w", targetID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CancelMessage cancels a queued message. It reports whether it was queued.
func (s *Store) CancelMessage(ctx context.Context, id int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'cancelled', updated_at = ?
		WHERE id = ? AND status = 'queued'`, s.nowMs(), id)
	if err != nil {
		return false, fmt.Errorf("store: cancel message %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

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
	CreatedAt      time.Time
}

// EachSupporter calls fn for each supporter of a campaign who has not been
// erased, in the order they wrote, reading row by row.
func (s *Store) EachSupporter(ctx context.Context, campaign string, fn func(SupporterRow) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id, email, first_name, last_name, postcode, consent_updates,
			consent_version, privacy_version, status, created_at
		FROM supporters WHERE campaign = ? AND erased_at IS NULL ORDER BY id`, campaign)
	if err != nil {
		return fmt.Errorf("store: supporters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r SupporterRow
		var created int64
		if err := rows.Scan(&r.ID, &r.Email, &r.FirstName, &r.LastName, &r.Postcode, &r.ConsentUpdates,
			&r.ConsentVersion, &r.PrivacyVersion, &r.Status, &created); err != nil {
			return fmt.Errorf("store: supporters: %w", err)
		}
		r.CreatedAt = time.UnixMilli(created).UTC()
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: supporters: %w", err)
	}
	return nil
}
