package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

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
	// Area is the area that area matching addressed the message in, and
	// AreasVersion the areas file's version that decided it (issue 21).
	Area         string
	AreasVersion string
}

// The target's name and address are recorded when a message is claimed;
// before that the send log shows the target's id.
const messageCols = `m.id, m.campaign, m.target_id, COALESCE(m.target_name, m.target_id), COALESCE(m.target_email, ''), s.email, m.status, m.attempts, m.last_error,
	m.provider_message_id, m.queued_at, m.sent_at, m.updated_at, COALESCE(m.digest_id, 0), m.area, m.areas_version`

// messagesQuery builds the send log query for f, newest first by id.
func messagesQuery(d dialect, f MessageFilter) (string, []any) {
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
			return d.noIndex("m." + col)
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
		add(m("id")+" >= (SELECT id FROM messages WHERE queued_at >= ? ORDER BY queued_at, id LIMIT 1) AND "+d.noIndex("m.queued_at")+" >= ?",
			f.From.UnixMilli(), f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add(m("id")+" <= (SELECT id FROM messages WHERE queued_at < ? ORDER BY queued_at DESC, id DESC LIMIT 1) AND "+d.noIndex("m.queued_at")+" < ?",
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
		from, order, a = matchQuery(d, f)
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
		&m.LastError, &m.ProviderMessageID, &queued, &sent, &updated, &m.DigestID, &m.Area, &m.AreasVersion)
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
	q, args := messagesQuery(s.d, f)
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
		&m.LastError, &m.ProviderMessageID, &queued, &sent, &updated, &m.DigestID, &m.Area, &m.AreasVersion,
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
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = `+sqlQueued+`, next_attempt_at = ?, lease_owner = NULL, digest_id = NULL, updated_at = ?
		WHERE id = ? AND status = `+sqlFailed, now, now, id)
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
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = `+sqlQueued+`, next_attempt_at = ?, lease_owner = NULL, digest_id = NULL, updated_at = ?
		WHERE target_id = ? AND status = `+sqlFailed, now, now, targetID)
	if err != nil {
		return 0, fmt.Errorf("store: retry failed for %s: %w", targetID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CancelMessage cancels a queued message. It reports whether it was queued.
func (s *Store) CancelMessage(ctx context.Context, id int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = `+sqlCancelled+`, updated_at = ?
		WHERE id = ? AND status = `+sqlQueued, s.nowMs(), id)
	if err != nil {
		return false, fmt.Errorf("store: cancel message %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
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

// matchQuery is the send log's FROM and ORDER BY for a part of a supporter's
// name or email ("grace", "@gmail", "Lee"): case-insensitive for ASCII
// (SQLite's LIKE), with % and _ taken literally. It returns the conditions
// to put first and their arguments (a[0] is the []string of conditions).
//
// A LIKE '%part%' can use no index, so the query walks the supporters,
// newest first, and reaches each one's messages through the
// (supporter_id, target_id) index, stopping as soon as the page is full:
// a common part costs a few supporters, a rare one a pass over the
// supporters (a quarter of the messages with four targets), never a pass
// over the send log. MessagesMatching bounds that pass. Rows come newest
// supporter first, then newest message: the order of message ids, since a
// letter's supporter and messages are written together.
func matchQuery(d dialect, f MessageFilter) (from, order string, a []any) {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	pat := "%" + r.Replace(f.Match) + "%"
	// +s.campaign: no index on campaign, so that the supporters are walked
	// by id, newest first, and the walk stops with the page.
	conds := []string{"s.erased_at IS NULL",
		`(s.email ` + d.like() + ` ? ESCAPE '\' OR s.first_name || ' ' || s.last_name ` + d.like() + ` ? ESCAPE '\')`}
	args := []any{pat, pat}
	if f.Campaign != "" { // "": every campaign
		conds = append(conds, d.noIndex("s.campaign")+" = ?")
		args = append(args, f.Campaign)
	}
	if lo, hi := f.supporters[0], f.supporters[1]; hi > 0 {
		conds = append(conds, "s.id > ? AND s.id <= ?")
		args = append(args, lo, hi)
	}
	// CROSS JOIN keeps the supporters as the outer loop.
	return ` FROM supporters s ` + d.orderedJoin() + ` messages m ON m.supporter_id = s.id`, " ORDER BY s.id DESC, m.id DESC",
		append([]any{conds}, args...)
}

// MessagesMatching returns a page of the send log for a filter with Match,
// searching at most window supporters (newest first, from the cursor) so
// that a page costs the same on a million messages as on a thousand. When
// the window ends before the page is full, older is the cursor (for
// Before) that searches on from there; 0 when no older supporter is left.
func (s *Store) MessagesMatching(ctx context.Context, f MessageFilter, window int64) (rows []MessageRow, older int64, err error) {
	var top sql.NullInt64
	if f.Before > 0 {
		err = s.r.QueryRowContext(ctx, `SELECT supporter_id FROM messages WHERE id < ? ORDER BY id DESC LIMIT 1`, f.Before).Scan(&top)
		if err == sql.ErrNoRows {
			return nil, 0, nil
		}
	} else {
		err = s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM supporters`).Scan(&top)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: messages matching: %w", err)
	}
	if !top.Valid {
		return nil, 0, nil
	}
	floor := max(top.Int64-window, 0)
	f.supporters = [2]int64{floor, top.Int64}
	if rows, err = s.Messages(ctx, f); err != nil {
		return nil, 0, err
	}
	if floor == 0 || (f.Limit > 0 && len(rows) >= f.Limit) {
		return rows, 0, nil
	}
	// Go on below the newest message of the newest supporter under the
	// window (two seeks in the supporter index: an aggregate here would
	// walk the messages by id instead).
	var sup int64
	err = s.r.QueryRowContext(ctx, `SELECT supporter_id FROM messages WHERE supporter_id <= ?
		ORDER BY supporter_id DESC LIMIT 1`, floor).Scan(&sup)
	if err == sql.ErrNoRows {
		return rows, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: messages matching: %w", err)
	}
	ids, err := s.r.QueryContext(ctx, `SELECT id FROM messages WHERE supporter_id = ?`, sup)
	if err != nil {
		return nil, 0, fmt.Errorf("store: messages matching: %w", err)
	}
	defer ids.Close()
	for ids.Next() {
		var id int64
		if err := ids.Scan(&id); err != nil {
			return nil, 0, fmt.Errorf("store: messages matching: %w", err)
		}
		older = max(older, id+1)
	}
	return rows, older, ids.Err()
}
