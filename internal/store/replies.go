package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// What comes back (issue 22): relay addresses, inbound replies, the
// follow-up and its answers (tables of migration 110). internal/reply
// decides; this file keeps.

// ReplyKind is what an inbound email is.
type ReplyKind string

// Kinds of inbound email.
const (
	KindReply     ReplyKind = "reply"           // written by a person
	KindAck       ReplyKind = "acknowledgement" // an automatic answer: out-of-office, "we received your message"
	KindUnmatched ReplyKind = "unmatched"       // to an unknown or forged relay address
)

// ReplyState is what was done with an inbound email.
type ReplyState string

// States of an inbound email.
const (
	// StateForwarded: a reply to a single letter, forwarded to its writer
	// (or a writer's answer, relayed to the decision-maker).
	StateForwarded ReplyState = "forwarded"
	// StateHeld: from an address that is not the target's (nor of its
	// domain); waits for the organizer to accept it in the console.
	StateHeld ReplyState = "held"
	// StatePending: a reply to a digest, waiting for the organizer to
	// publish it.
	StatePending ReplyState = "pending"
	// StatePublished: a reply to a digest, shown on the receipt of every
	// supporter whose letter the digest carried.
	StatePublished ReplyState = "published"
	// StateRecorded: kept, nothing sent (acknowledgements, unmatched mail,
	// a reply whose writer was erased).
	StateRecorded ReplyState = "recorded"
	// StateDropped: a held reply the organizer chose not to let through:
	// kept, sent nowhere, not counted as the target's reply.
	StateDropped ReplyState = "declined"
)

// Reply directions: from the decision-maker, or a supporter answering the
// forward (relayed back to the decision-maker).
const (
	FromTarget    = "from_target"
	FromSupporter = "from_supporter"
)

// Followup answers: "Did you get a reply from …?"
const (
	AnswerYes = "yes"
	AnswerAck = "acknowledgement"
	AnswerNo  = "no"
)

// ValidAnswer reports whether a is a follow-up answer.
func ValidAnswer(a string) bool { return a == AnswerYes || a == AnswerAck || a == AnswerNo }

// ReplyRef names the email a relay address belongs to: a message or a
// digest.
type ReplyRef struct {
	Campaign  string
	TargetID  string
	MessageID int64
	DigestID  int64
}

// ReplyToken returns the relay token of ref's email, creating it with
// newToken the first time (a retry of the same message keeps its token).
func (s *Store) ReplyToken(ctx context.Context, ref ReplyRef, newToken func() string) (string, error) {
	if (ref.MessageID == 0) == (ref.DigestID == 0) {
		return "", errors.New("store: reply token: give a message or a digest")
	}
	col, id := "message_id", ref.MessageID
	if ref.DigestID != 0 {
		col, id = "digest_id", ref.DigestID
	}
	var tok string
	err := s.r.QueryRowContext(ctx, `SELECT token FROM reply_addresses WHERE `+col+` = ?`, id).Scan(&tok)
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: reply token: %w", err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reply_addresses (token, campaign, target_id, message_id, digest_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, newToken(), ref.Campaign, ref.TargetID,
			sql.NullInt64{Int64: ref.MessageID, Valid: ref.MessageID != 0}, sql.NullInt64{Int64: ref.DigestID, Valid: ref.DigestID != 0},
			s.nowMs()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT token FROM reply_addresses WHERE `+col+` = ?`, id).Scan(&tok)
	})
	if err != nil {
		return "", fmt.Errorf("store: reply token: %w", err)
	}
	return tok, nil
}

// ReplyMatch is what a relay token leads to.
type ReplyMatch struct {
	ReplyRef
	TargetEmail string
	TargetName  string
	// For a single letter: its writer (none for a digest).
	SupporterID     int64
	SupporterEmail  string
	SupporterName   string
	SupporterErased bool
	PublicID        string // the message's or digest's
}

// MatchReplyToken finds the email a relay token was given to.
func (s *Store) MatchReplyToken(ctx context.Context, tok string) (ReplyMatch, bool, error) {
	var m ReplyMatch
	var mid, did sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT campaign, target_id, message_id, digest_id FROM reply_addresses WHERE token = ?`, tok).
		Scan(&m.Campaign, &m.TargetID, &mid, &did)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("store: match reply token: %w", err)
	}
	m.MessageID, m.DigestID = mid.Int64, did.Int64
	if m.MessageID != 0 {
		var erased sql.NullInt64
		err = s.r.QueryRowContext(ctx, `SELECT COALESCE(m.target_email, ''), COALESCE(m.target_name, ''), COALESCE(m.public_id, ''),
				s.id, s.email, s.first_name || ' ' || s.last_name, s.erased_at
			FROM messages m JOIN supporters s ON s.id = m.supporter_id WHERE m.id = ?`, m.MessageID).
			Scan(&m.TargetEmail, &m.TargetName, &m.PublicID, &m.SupporterID, &m.SupporterEmail, &m.SupporterName, &erased)
		m.SupporterErased = erased.Valid
		m.SupporterName = strings.TrimSpace(m.SupporterName)
	} else {
		err = s.r.QueryRowContext(ctx, `SELECT d.public_id,
				COALESCE((SELECT target_email FROM messages WHERE digest_id = d.id AND target_email IS NOT NULL LIMIT 1), ''),
				COALESCE((SELECT target_name FROM messages WHERE digest_id = d.id AND target_name IS NOT NULL LIMIT 1), '')
			FROM digests d WHERE d.id = ?`, m.DigestID).Scan(&m.PublicID, &m.TargetEmail, &m.TargetName)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("store: match reply token: %w", err)
	}
	return m, true, nil
}

// Attachment is what is kept of an inbound attachment: its name and size,
// never its content.
type Attachment struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// NewReply is an inbound email to record.
type NewReply struct {
	Campaign    string
	TargetID    string
	MessageID   int64
	DigestID    int64
	SupporterID int64
	Direction   string // FromTarget or FromSupporter
	Kind        ReplyKind
	State       ReplyState
	FromEmail   string
	FromName    string
	Subject     string
	Body        string
	SpamScore   *float64
	Attachments []Attachment
}

// Reply is a recorded inbound email.
type Reply struct {
	NewReply
	ID         int64
	ReceivedAt time.Time
	DecidedAt  *time.Time
}

// RecordReply records r and, in the same transaction, queues the mails
// mails returns for its id (a forward), so that a mail is queued if and
// only if the reply is recorded.
func (s *Store) RecordReply(ctx context.Context, r NewReply, mails func(id int64) []NewMail) (int64, error) {
	att, err := json.Marshal(r.Attachments)
	if err != nil {
		return 0, fmt.Errorf("store: record reply: %w", err)
	}
	if r.Attachments == nil {
		att = []byte("[]")
	}
	if r.Direction == "" {
		r.Direction = FromTarget
	}
	var id int64
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var spam sql.NullFloat64
		if r.SpamScore != nil {
			spam = sql.NullFloat64{Float64: *r.SpamScore, Valid: true}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO replies (campaign, target_id, message_id, digest_id, supporter_id, direction,
				kind, state, from_email, from_name, subject, body, spam_score, attachments, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.Campaign, r.TargetID, nullID(r.MessageID), nullID(r.DigestID), nullID(r.SupporterID), r.Direction,
			r.Kind, r.State, r.FromEmail, r.FromName, r.Subject, r.Body, spam, string(att), now).Scan(&id); err != nil {
			return err
		}
		if mails == nil {
			return nil
		}
		for _, m := range mails(id) {
			if _, _, err := EnqueueMailTx(ctx, tx, now, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: record reply: %w", err)
	}
	return id, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

const replyCols = `id, campaign, target_id, COALESCE(message_id, 0), COALESCE(digest_id, 0), COALESCE(supporter_id, 0), direction,
	kind, state, from_email, from_name, subject, body, spam_score, attachments, received_at, decided_at`

func scanReply(sc interface{ Scan(...any) error }) (Reply, error) {
	var r Reply
	var spam sql.NullFloat64
	var att string
	var recv int64
	var dec sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Campaign, &r.TargetID, &r.MessageID, &r.DigestID, &r.SupporterID, &r.Direction,
		&r.Kind, &r.State, &r.FromEmail, &r.FromName, &r.Subject, &r.Body, &spam, &att, &recv, &dec); err != nil {
		return r, err
	}
	if spam.Valid {
		r.SpamScore = &spam.Float64
	}
	_ = json.Unmarshal([]byte(att), &r.Attachments)
	r.ReceivedAt = time.UnixMilli(recv)
	r.DecidedAt = msToTime(dec)
	return r, nil
}

// ReplyFilter selects replies for the console.
type ReplyFilter struct {
	Campaign string // "" every campaign (and unmatched mail)
	States   []ReplyState
	Limit    int
}

// Replies lists recorded inbound email, newest first.
func (s *Store) Replies(ctx context.Context, f ReplyFilter) ([]Reply, error) {
	q := `SELECT ` + replyCols + ` FROM replies WHERE 1 = 1`
	var args []any
	if f.Campaign != "" {
		q += ` AND campaign = ?`
		args = append(args, f.Campaign)
	}
	if len(f.States) > 0 {
		q += ` AND state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: replies: %w", err)
	}
	defer rows.Close()
	var out []Reply
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, fmt.Errorf("store: replies: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GetReply reads one reply.
func (s *Store) GetReply(ctx context.Context, id int64) (Reply, bool, error) {
	r, err := scanReply(s.r.QueryRowContext(ctx, `SELECT `+replyCols+` FROM replies WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("store: reply %d: %w", id, err)
	}
	return r, true, nil
}

// DigestReader is a supporter whose letter a digest carried.
type DigestReader struct {
	SupporterID    int64
	Email          string
	FirstName      string
	LastName       string
	ConsentUpdates bool
}

// DecideReply moves reply id from state from to state to, once: a second
// decision (a double click, another organizer on another instance) finds
// it moved and changes nothing (ok false). In the same transaction it
// queues the mails that mails returns, given the reply and, for a digest,
// the supporters its letters came from who have not been erased.
func (s *Store) DecideReply(ctx context.Context, id int64, from, to ReplyState,
	mails func(r Reply, readers []DigestReader) []NewMail) (ok bool, err error) {
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE replies SET state = ?, decided_at = ? WHERE id = ? AND state = ?`, to, now, id, from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ok = true
		if mails == nil {
			return nil
		}
		r, err := scanReply(tx.QueryRowContext(ctx, `SELECT `+replyCols+` FROM replies WHERE id = ?`, id))
		if err != nil {
			return err
		}
		var readers []DigestReader
		if r.DigestID != 0 {
			// Who unsubscribed from updates (issue 26) no longer consents.
			rows, err := tx.QueryContext(ctx, `SELECT s.id, s.email, s.first_name, s.last_name,
					CASE WHEN s.unsubscribed_at IS NULL THEN s.consent_updates ELSE 0 END
				FROM messages m JOIN supporters s ON s.id = m.supporter_id
				WHERE m.digest_id = ? AND s.erased_at IS NULL ORDER BY s.id`, r.DigestID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var d DigestReader
				var consent int64
				if err := rows.Scan(&d.SupporterID, &d.Email, &d.FirstName, &d.LastName, &consent); err != nil {
					rows.Close()
					return err
				}
				d.ConsentUpdates = consent != 0
				readers = append(readers, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, m := range mails(r, readers) {
			if _, _, err := EnqueueMailTx(ctx, tx, now, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: decide reply %d: %w", id, err)
	}
	return ok, nil
}

// SupporterReplies is what a supporter's receipt shows of what came back:
// replies to their own letters (forwarded, or automatic answers, recorded)
// and the published replies to the digests that carried them.
func (s *Store) SupporterReplies(ctx context.Context, supporterID int64) ([]Reply, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+replyCols+` FROM replies
		WHERE (supporter_id = ? AND direction = ? AND kind IN (?, ?) AND state IN (?, ?))
		   OR (state = ? AND digest_id IN (SELECT digest_id FROM messages WHERE supporter_id = ? AND digest_id IS NOT NULL))
		ORDER BY id`, supporterID, FromTarget, KindReply, KindAck, StateForwarded, StateRecorded,
		StatePublished, supporterID)
	if err != nil {
		return nil, fmt.Errorf("store: supporter replies: %w", err)
	}
	defer rows.Close()
	var out []Reply
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, fmt.Errorf("store: supporter replies: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FollowupTarget is a decision-maker a follow-up asks about.
type FollowupTarget struct {
	ID   string
	Name string
}

// FollowupCandidate is a supporter due a follow-up.
type FollowupCandidate struct {
	SupporterID int64
	Campaign    string
	Email       string
	FirstName   string
	LastName    string
	Targets     []FollowupTarget // whose copy was sent (not failed)
}

// Statuses of a copy that reached the provider (and was not refused): the
// follow-up asks about these targets only.
var followupSent = sendlog.SQLList(sendlog.Sent, sendlog.Deferred, sendlog.Delivered)

// FollowupDue lists up to limit supporters of campaign due a follow-up:
// not erased, not asked yet, none of their letters still waiting, at least
// one sent, and the last sent before sentBefore.
func (s *Store) FollowupDue(ctx context.Context, campaign string, sentBefore time.Time, limit int) ([]FollowupCandidate, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.id, s.email, s.first_name, s.last_name FROM supporters s
		WHERE s.campaign = ? AND s.erased_at IS NULL AND s.created_at <= ?
		  AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.supporter_id = s.id)
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.supporter_id = s.id AND m.status IN (`+
		sendlog.SQLList(sendlog.Unconfirmed, sendlog.Queued, sendlog.Sending)+`))
		  AND EXISTS (SELECT 1 FROM messages m WHERE m.supporter_id = s.id AND m.status IN (`+followupSent+`))
		  AND (SELECT MAX(sent_at) FROM messages m WHERE m.supporter_id = s.id) <= ?
		ORDER BY s.id LIMIT ?`, campaign, sentBefore.UnixMilli(), sentBefore.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: followups due: %w", err)
	}
	var out []FollowupCandidate
	for rows.Next() {
		c := FollowupCandidate{Campaign: campaign}
		if err := rows.Scan(&c.SupporterID, &c.Email, &c.FirstName, &c.LastName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: followups due: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: followups due: %w", err)
	}
	for i := range out {
		ts, err := s.followupTargets(ctx, out[i].SupporterID)
		if err != nil {
			return nil, err
		}
		out[i].Targets = ts
	}
	return out, nil
}

func (s *Store) followupTargets(ctx context.Context, supporterID int64) ([]FollowupTarget, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, COALESCE(target_name, '') FROM messages
		WHERE supporter_id = ? AND status IN (`+followupSent+`) ORDER BY target_id`, supporterID)
	if err != nil {
		return nil, fmt.Errorf("store: followup targets: %w", err)
	}
	defer rows.Close()
	var out []FollowupTarget
	for rows.Next() {
		var t FollowupTarget
		if err := rows.Scan(&t.ID, &t.Name); err != nil {
			return nil, fmt.Errorf("store: followup targets: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// QueueFollowup records that supporterID is followed up and queues its
// mail, in one transaction, once only: the primary key of followups and
// the mail's dedupe key both refuse a second (another instance, a
// restart). queued is false when it had been done before.
func (s *Store) QueueFollowup(ctx context.Context, supporterID int64, campaign string, m NewMail) (queued bool, err error) {
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO followups (supporter_id, campaign, queued_at) VALUES (?, ?, ?)
			ON CONFLICT (supporter_id) DO NOTHING RETURNING supporter_id`, supporterID, campaign, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, queued, err = EnqueueMailTx(ctx, tx, now, m)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: queue followup: %w", err)
	}
	return queued, nil
}

// ErrNotAsked: a follow-up answer about a letter the supporter did not
// have sent (or an erased supporter).
var ErrNotAsked = errors.New("store: no such letter to answer about")

// RecordFollowupAnswer records (or changes) a supporter's answer about one
// target. The letter must have been sent and its writer not erased.
func (s *Store) RecordFollowupAnswer(ctx context.Context, supporterID int64, targetID, answer string) (campaign string, err error) {
	if !ValidAnswer(answer) {
		return "", fmt.Errorf("store: followup answer %q: %w", answer, ErrNotAsked)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT s.campaign FROM supporters s JOIN messages m ON m.supporter_id = s.id
			WHERE s.id = ? AND s.erased_at IS NULL AND m.target_id = ? AND m.status IN (`+followupSent+`)`,
			supporterID, targetID).Scan(&campaign)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotAsked
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO followup_answers (supporter_id, target_id, campaign, answer, answered_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (supporter_id, target_id) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at`,
			supporterID, targetID, campaign, answer, s.nowMs())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: followup answer: %w", err)
	}
	return campaign, nil
}

// FollowupAnswers is a supporter's answers, by target id.
func (s *Store) FollowupAnswers(ctx context.Context, supporterID int64) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, answer FROM followup_answers WHERE supporter_id = ?`, supporterID)
	if err != nil {
		return nil, fmt.Errorf("store: followup answers: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var t, a string
		if err := rows.Scan(&t, &a); err != nil {
			return nil, fmt.Errorf("store: followup answers: %w", err)
		}
		out[t] = a
	}
	return out, rows.Err()
}

// FollowupAnswerCounts are a target's follow-up answers.
type FollowupAnswerCounts struct {
	Yes             int `json:"yes"`
	Acknowledgement int `json:"acknowledgement"`
	No              int `json:"no"`
}

// Responses are a target's response figures in one campaign.
type Responses struct {
	Sent             int                  `json:"sent"`      // letters the provider took (sent, deferred or delivered)
	Delivered        int                  `json:"delivered"` // letters the target's server took (delivery events)
	Replies          int                  `json:"replies"`   // replies captured through the relay
	Acknowledgements int                  `json:"acknowledgements"`
	Followup         FollowupAnswerCounts `json:"followup"`
}

// ResponseStats are the response figures of campaign, by target id.
func (s *Store) ResponseStats(ctx context.Context, campaign string) (map[string]*Responses, error) {
	out := map[string]*Responses{}
	get := func(t string) *Responses {
		if out[t] == nil {
			out[t] = &Responses{}
		}
		return out[t]
	}
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, status, SUM(n) FROM message_counts
		WHERE campaign = ? AND n > 0 AND status IN (`+followupSent+`) GROUP BY target_id, status`, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: response stats: %w", err)
	}
	for rows.Next() {
		var t, st string
		var n int
		if err := rows.Scan(&t, &st, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: response stats: %w", err)
		}
		r := get(t)
		r.Sent += n
		if st == string(sendlog.Delivered) {
			r.Delivered += n
		}
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT target_id, kind, COUNT(*) FROM replies
		WHERE campaign = ? AND direction = ? AND kind IN (?, ?) AND state NOT IN (?, ?) GROUP BY target_id, kind`,
		campaign, FromTarget, KindReply, KindAck, StateHeld, StateDropped)
	if err != nil {
		return nil, fmt.Errorf("store: response stats: %w", err)
	}
	for rows.Next() {
		var t, k string
		var n int
		if err := rows.Scan(&t, &k, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: response stats: %w", err)
		}
		if ReplyKind(k) == KindReply {
			get(t).Replies += n
		} else {
			get(t).Acknowledgements += n
		}
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT target_id, answer, COUNT(*) FROM followup_answers
		WHERE campaign = ? GROUP BY target_id, answer`, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: response stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, a string
		var n int
		if err := rows.Scan(&t, &a, &n); err != nil {
			return nil, fmt.Errorf("store: response stats: %w", err)
		}
		f := &get(t).Followup
		switch a {
		case AnswerYes:
			f.Yes += n
		case AnswerAck:
			f.Acknowledgement += n
		case AnswerNo:
			f.No += n
		}
	}
	return out, rows.Err()
}

// ReplyCounts are a campaign's inbound email by kind and follow-up answers
// by answer, for /metrics.
func (s *Store) ReplyCounts(ctx context.Context, campaign string) (kinds, answers map[string]int, err error) {
	kinds, answers = map[string]int{}, map[string]int{}
	rows, err := s.r.QueryContext(ctx, `SELECT kind, COUNT(*) FROM replies WHERE campaign = ? AND direction = ? GROUP BY kind`,
		campaign, FromTarget)
	if err != nil {
		return nil, nil, fmt.Errorf("store: reply counts: %w", err)
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		kinds[k] = n
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT answer, COUNT(*) FROM followup_answers WHERE campaign = ? GROUP BY answer`, campaign)
	if err != nil {
		return nil, nil, fmt.Errorf("store: reply counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, nil, err
		}
		answers[a] = n
	}
	return kinds, answers, rows.Err()
}

// eraseReplies erases, inside EraseSupporter's transaction, what came back
// for supporter id: the text of replies to their letters and of their own
// answers relayed to a target, the mails queued to them (forwards,
// follow-ups; unsent ones are cancelled) and their follow-up answers. The
// reply rows stay without text, so that response counts remain right.
func eraseReplies(ctx context.Context, tx *sql.Tx, id int64) error {
	for _, q := range []string{
		`UPDATE replies SET subject = '', body = '', from_name = '', attachments = '[]',
			from_email = CASE WHEN direction = '` + FromSupporter + `' THEN '' ELSE from_email END WHERE supporter_id = ?`,
		`UPDATE mails SET status = CASE WHEN status IN (` + sendlog.SQLList(sendlog.Queued, sendlog.Sending) + `) THEN '` +
			string(sendlog.Cancelled) + `' ELSE status END, to_email = '', to_name = '', subject = '', body = '', reply_to = '' WHERE supporter_id = ?`,
		`DELETE FROM followup_answers WHERE supporter_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("erase replies: %w", err)
		}
	}
	return nil
}
