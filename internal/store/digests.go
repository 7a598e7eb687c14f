package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/sendlog"
)

// Digests (issue 12, migration 050): one email to a target carrying many
// letters of one campaign. Forming a digest — choosing its letters and
// recording it — is one transaction that takes the letters out of the
// queue (status 'sending', digest_id set), so a letter is never in two
// digests nor sent both alone and in a digest. The digest row is then
// leased like a message: a sender that dies leaves it 'sending' under a
// dead lease, RenewLease puts it back to 'queued' with its letters, and it
// is sent once more, whole.

// queryer is what both a transaction and a pool offer for reading.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueueHead describes the waiting letters of one (target, campaign): what
// the sender's delivery policy decides on. Reading it costs one index seek
// per pair, whatever the backlog (issue 17).
type QueueHead struct {
	TargetID string
	Campaign string
	Queued   int       // letters queued (from message_counts; some may not be due yet)
	Due      bool      // the first letter in due order is due now
	QueuedAt time.Time // when that letter was queued (its wait)
	Digests  int       // digests formed and waiting to be (re)sent, due now
}

// QueueHeads returns the heads of the queue for targets (ids), skipping
// paused and flagged targets and paused campaigns, as Claim does.
func (s *Store) QueueHeads(ctx context.Context, targets []string) ([]QueueHead, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	now := s.nowMs()
	held, err := heldTargets(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("store: queue heads: %w", err)
	}
	queued, err := queuedCounts(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("store: queue heads: %w", err)
	}
	// The digests due, for every target at once: a few rows, read in
	// one query whatever the number of targets (one query per target
	// cost a claim about 0.1 s with 654 targets).
	allDigests, err := queuedDigests(ctx, s.r, s.d, now)
	if err != nil {
		return nil, fmt.Errorf("store: queue heads: %w", err)
	}
	var out []QueueHead
	for _, t := range targets {
		if held[t] {
			continue
		}
		digests := allDigests[t]
		if digests == nil {
			digests = map[string]int{}
		}
		for _, q := range queued[t] {
			h := QueueHead{TargetID: t, Campaign: q.campaign, Queued: q.n, Digests: digests[q.campaign]}
			delete(digests, q.campaign)
			var next, at int64
			err := s.r.QueryRowContext(ctx, `SELECT next_attempt_at, queued_at FROM `+s.d.indexedBy("messages", "messages_queue")+`
				WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ? ORDER BY next_attempt_at LIMIT 1`, t, q.campaign).Scan(&next, &at)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return nil, fmt.Errorf("store: queue head %s/%s: %w", t, q.campaign, err)
			default:
				h.Due, h.QueuedAt = next <= now, time.UnixMilli(at)
			}
			out = append(out, h)
		}
		for c, n := range digests { // digests whose campaign has no letter queued now
			out = append(out, QueueHead{TargetID: t, Campaign: c, Digests: n})
		}
	}
	return out, nil
}

type campaignCount struct {
	campaign string
	n        int
}

// queuedCounts is queuedCampaigns with the number of letters queued.
func queuedCounts(ctx context.Context, q queryer) (map[string][]campaignCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT target_id, campaign, n FROM message_counts
		WHERE status = `+sqlQueued+` AND n > 0
		  AND campaign NOT IN (SELECT slug FROM campaigns WHERE status = 'paused')
		ORDER BY target_id, campaign`)
	if err != nil {
		return nil, fmt.Errorf("queued counts: %w", err)
	}
	defer rows.Close()
	out := map[string][]campaignCount{}
	for rows.Next() {
		var target string
		var c campaignCount
		if err := rows.Scan(&target, &c.campaign, &c.n); err != nil {
			return nil, fmt.Errorf("queued counts: %w", err)
		}
		out[target] = append(out[target], c)
	}
	return out, rows.Err()
}

// queuedDigests counts, per target and campaign, the digests due to be
// (re)sent now.
func queuedDigests(ctx context.Context, q queryer, d dialect, now int64) (map[string]map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT target_id, campaign, COUNT(*) FROM `+d.indexedBy("digests", "digests_queue")+`
		WHERE status = `+sqlQueued+` AND next_attempt_at <= ?
		  AND campaign NOT IN (SELECT slug FROM campaigns WHERE status = 'paused')
		GROUP BY target_id, campaign`, now)
	if err != nil {
		return nil, fmt.Errorf("queued digests: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var t, c string
		var n int
		if err := rows.Scan(&t, &c, &n); err != nil {
			return nil, fmt.Errorf("queued digests: %w", err)
		}
		if out[t] == nil {
			out[t] = map[string]int{}
		}
		out[t][c] = n
	}
	return out, rows.Err()
}

// DigestRequest asks for up to Target.Limit digests of one campaign to one
// target, each of at most Max letters.
type DigestRequest struct {
	Target   ClaimTarget
	Campaign string
	Max      int
}

// DigestLetter is one letter in a digest, as its text is rendered.
type DigestLetter struct {
	MessageID int64
	Copy
	// Similarity is the letter's similarity to the campaign's, measured
	// when it was written (nil: written before migration 130).
	Similarity *float64
}

// ClaimedDigest is a leased digest and its letters. Its Message has ID and
// DigestID set to the digest's id.
type ClaimedDigest struct {
	sendlog.Message
	Letters []DigestLetter
}

// ClaimDigests leases, for owner, the digests asked for: first those formed
// earlier and waiting (after a crash or a failed attempt), then new ones,
// each made of the oldest due letters of its (target, campaign) in one
// transaction. It stops for a pair when no letter is left.
func (s *Store) ClaimDigests(ctx context.Context, owner string, reqs []DigestRequest) ([]ClaimedDigest, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	now := s.nowMs()
	var out []ClaimedDigest
	err := s.tx(ctx, func(tx *sql.Tx) error {
		held, err := heldTargets(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			if r.Target.Limit <= 0 || held[r.Target.ID] {
				continue
			}
			if r.Max <= 0 {
				r.Max = 500
			}
			rows, err := tx.QueryContext(ctx, `UPDATE digests SET status = `+sqlSending+`, lease_owner = ?, updated_at = ?
				WHERE `+s.d.noIndex("status")+` = `+sqlQueued+` AND id IN (SELECT id FROM `+s.d.indexedBy("digests", "digests_queue")+`
					WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ? AND next_attempt_at <= ?
					ORDER BY next_attempt_at LIMIT ?)
				RETURNING id, public_id, attempts`, owner, now, r.Target.ID, r.Campaign, now, r.Target.Limit)
			if err != nil {
				return fmt.Errorf("lease digests for %s: %w", r.Target.ID, err)
			}
			got, err := scanDigests(rows, r)
			if err != nil {
				return fmt.Errorf("lease digests for %s: %w", r.Target.ID, err)
			}
			for len(got) < r.Target.Limit {
				d, ok, err := formDigest(ctx, tx, s.d, owner, r, now)
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				got = append(got, d)
			}
			for i := range got {
				if got[i].Letters, err = digestLetters(ctx, tx, got[i].ID); err != nil {
					return err
				}
			}
			out = append(out, got...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim digests: %w", err)
	}
	return out, nil
}

func scanDigests(rows *sql.Rows, r DigestRequest) ([]ClaimedDigest, error) {
	defer rows.Close()
	var out []ClaimedDigest
	for rows.Next() {
		d := newClaimedDigest(r)
		if err := rows.Scan(&d.ID, &d.PublicID, &d.Attempts); err != nil {
			return nil, err
		}
		d.DigestID = d.ID
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

func newClaimedDigest(r DigestRequest) ClaimedDigest {
	return ClaimedDigest{Message: sendlog.Message{Campaign: r.Campaign, TargetID: r.Target.ID,
		TargetName: r.Target.Name, TargetEmail: r.Target.Email}}
}

// formDigest records a new digest of the oldest due letters of r's pair.
func formDigest(ctx context.Context, tx *sql.Tx, dl dialect, owner string, r DigestRequest, now int64) (ClaimedDigest, bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM `+dl.indexedBy("messages", "messages_queue")+`
		WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ? AND next_attempt_at <= ?
		ORDER BY next_attempt_at LIMIT ?`, r.Target.ID, r.Campaign, now, r.Max)
	if err != nil {
		return ClaimedDigest{}, false, fmt.Errorf("choose letters: %w", err)
	}
	ids, err := scanIDs(rows)
	if err != nil || len(ids) == 0 {
		return ClaimedDigest{}, false, err
	}
	d := newClaimedDigest(r)
	d.PublicID = newPublicID()
	if err := tx.QueryRowContext(ctx, `INSERT INTO digests (campaign, target_id, public_id, status, lease_owner, letters,
			next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, `+sqlSending+`, ?, ?, ?, ?, ?) RETURNING id`,
		r.Campaign, r.Target.ID, d.PublicID, owner, len(ids), now, now, now).Scan(&d.ID); err != nil {
		return ClaimedDigest{}, false, fmt.Errorf("record digest: %w", err)
	}
	d.DigestID = d.ID
	// In slices: a digest may stand for more letters than a statement
	// may have parameters (SQLite: 32,766; PostgreSQL: 65,535).
	for chunk := range slices.Chunk(ids, 5000) {
		args := append([]any{d.ID, r.Target.Email, r.Target.Name, r.Target.Title, r.Target.Salutation, now}, anys(chunk)...)
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = `+sqlSending+`, digest_id = ?, lease_owner = NULL,
				public_id = COALESCE(public_id, `+dl.randomID()+`),
				target_email = ?, target_name = ?, target_title = ?, salutation = ?, updated_at = ?
			WHERE id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...); err != nil {
			return ClaimedDigest{}, false, fmt.Errorf("put letters in digest: %w", err)
		}
	}
	return d, true, nil
}

func newPublicID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "d" + hex.EncodeToString(b)
}

// digestLetters reads the letters of a digest still to be sent in it (an
// erased supporter's letter was cancelled meanwhile and is left out).
func digestLetters(ctx context.Context, q queryer, digest int64) ([]DigestLetter, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.id, s.subject, s.body, s.first_name, s.last_name, s.postcode, COALESCE(m.rendered, ''), s.similarity,
			COALESCE(m.target_name, ''), COALESCE(m.target_title, ''), COALESCE(m.salutation, '')
		FROM messages m JOIN supporters s ON s.id = m.supporter_id
		WHERE m.digest_id = ? AND m.status = `+sqlSending+` ORDER BY m.id`, digest)
	if err != nil {
		return nil, fmt.Errorf("digest %d letters: %w", digest, err)
	}
	out, err := scanDigestLetters(rows)
	if err != nil {
		return nil, fmt.Errorf("digest %d letters: %w", digest, err)
	}
	return out, nil
}

// scanDigestLetters reads rows of (id, subject, body, first name, last
// name, postcode, rendered, similarity, target name, title, salutation).
func scanDigestLetters(rows *sql.Rows) ([]DigestLetter, error) {
	defer rows.Close()
	var out []DigestLetter
	for rows.Next() {
		var l DigestLetter
		var sim sql.NullFloat64
		if err := rows.Scan(&l.MessageID, &l.Subject, &l.Body, &l.FirstName, &l.LastName, &l.Postcode, &l.Rendered, &sim,
			&l.TargetName, &l.Title, &l.Salutation); err != nil {
			return nil, err
		}
		if sim.Valid {
			l.Similarity = &sim.Float64
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// PendingDigest is what the next digest of one (campaign, target) would
// carry now: the letters of a digest formed earlier and waiting to be
// (re)sent, else the oldest due letters, as ClaimDigests would take them.
type PendingDigest struct {
	Letters []DigestLetter
	Formed  bool // Letters are those of a digest formed earlier, waiting
	Waiting int  // letters queued for the pair and in no digest yet, due or not
}

// PendingDigest reads the next digest of (campaign, target) of at most max
// letters (0: 500) without claiming, forming or changing anything: the
// console's preview. The letters' target fields are empty unless the
// digest was formed (the sender fills them from the target as it is then).
func (s *Store) PendingDigest(ctx context.Context, campaign, targetID string, max int) (PendingDigest, error) {
	if max <= 0 {
		max = 500
	}
	var out PendingDigest
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM message_counts
		WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ?`, targetID, campaign).Scan(&out.Waiting); err != nil {
		return out, fmt.Errorf("store: pending digest: %w", err)
	}
	now := s.nowMs()
	var formed int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM `+s.d.indexedBy("digests", "digests_queue")+`
		WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ? AND next_attempt_at <= ?
		ORDER BY next_attempt_at LIMIT 1`, targetID, campaign, now).Scan(&formed)
	switch {
	case err == nil:
		out.Formed = true
		out.Letters, err = digestLetters(ctx, s.r, formed)
		if err != nil {
			return out, fmt.Errorf("store: pending digest: %w", err)
		}
		return out, nil
	case !errors.Is(err, sql.ErrNoRows):
		return out, fmt.Errorf("store: pending digest: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, s.subject, s.body, s.first_name, s.last_name, s.postcode, COALESCE(m.rendered, ''), s.similarity,
			'', '', ''
		FROM messages m JOIN supporters s ON s.id = m.supporter_id
		WHERE m.id IN (SELECT id FROM `+s.d.indexedBy("messages", "messages_queue")+`
			WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ? AND next_attempt_at <= ?
			ORDER BY next_attempt_at LIMIT ?)
		ORDER BY m.id`, targetID, campaign, now, max)
	if err != nil {
		return out, fmt.Errorf("store: pending digest: %w", err)
	}
	if out.Letters, err = scanDigestLetters(rows); err != nil {
		return out, fmt.Errorf("store: pending digest: %w", err)
	}
	return out, nil
}

// requeueDigests puts back in the queue, whole, the digests held by a
// sender whose lease ran out.
func requeueDigests(ctx context.Context, tx *sql.Tx, now, leaseNow int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE digests SET status = `+sqlQueued+`, lease_owner = NULL, next_attempt_at = ?, updated_at = ?
		WHERE status = `+sqlSending+` AND (lease_owner IS NULL
			OR lease_owner NOT IN (SELECT owner FROM sender_leases WHERE alive_until >= ?))`, now, now, leaseNow)
	if err != nil {
		return 0, fmt.Errorf("requeue orphan digests: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// FinishDigests records what became of claimed digests (Outcome.ID is the
// digest's id): sent moves every letter still in it to sent with the
// digest's provider id; failed fails them; queued leaves them in the digest,
// due again at Next; cancelled (nothing left to send) closes it.
func (s *Store) FinishDigests(ctx context.Context, outcomes []sendlog.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, o := range outcomes {
			attempted := 0
			if o.Attempted {
				attempted = 1
			}
			next := now
			if !o.Next.IsZero() {
				next = o.Next.UnixMilli()
			}
			res, err := tx.ExecContext(ctx, `UPDATE digests SET status = ?, attempts = attempts + ?,
					provider_message_id = CASE WHEN ? <> '' THEN ? ELSE provider_message_id END,
					last_error = ?, next_attempt_at = ?, lease_owner = NULL,
					sent_at = CASE WHEN ? = `+sqlSent+` THEN ? ELSE sent_at END, updated_at = ?
				WHERE id = ? AND status = `+sqlSending,
				o.Status, attempted, o.ProviderID, o.ProviderID, o.Error, next, o.Status, now, now, o.ID)
			if err != nil {
				return fmt.Errorf("digest %d: %w", o.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			switch o.Status {
			case sendlog.Sent:
				// A delivery event may have come before this outcome: the
				// letter keeps the status it gave, and gets its send time.
				_, err = tx.ExecContext(ctx, `UPDATE messages SET
						status = CASE WHEN status = `+sqlSending+` THEN `+sqlSent+` ELSE status END,
						attempts = attempts + 1, provider_message_id = ?, last_error = '', sent_at = ?, updated_at = ?
					WHERE digest_id = ? AND (status = `+sqlSending+`
						OR (status IN (`+sqlDeferred+`, `+sqlDelivered+`, `+sqlBounced+`, `+sqlDropped+`, `+sqlSpamReport+`) AND sent_at IS NULL))`,
					o.ProviderID, now, now, o.ID)
			case sendlog.Failed:
				_, err = tx.ExecContext(ctx, `UPDATE messages SET status = `+sqlFailed+`, attempts = attempts + ?, last_error = ?, updated_at = ?
					WHERE digest_id = ? AND status = `+sqlSending, attempted, o.Error, now, o.ID)
			case sendlog.Queued:
				if o.Split {
					err = splitDigest(ctx, tx, o.ID, now)
				}
			}
			if err != nil {
				return fmt.Errorf("digest %d letters: %w", o.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish digests: %w", err)
	}
	return nil
}

// splitDigest moves the second half of a digest's letters (by id) into a
// new digest of the same target and campaign; both are queued, due at now.
// A digest of one letter is left as it is.
func splitDigest(ctx context.Context, tx *sql.Tx, digest, now int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM messages WHERE digest_id = ? AND status = `+sqlSending+` ORDER BY id`, digest)
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	ids, err := scanIDs(rows)
	if err != nil || len(ids) < 2 {
		return err
	}
	keep, move := ids[:len(ids)/2], ids[len(ids)/2:]
	var half int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO digests (campaign, target_id, public_id, status, letters, next_attempt_at, created_at, updated_at)
		SELECT campaign, target_id, ?, `+sqlQueued+`, ?, ?, ?, ? FROM digests WHERE id = ? RETURNING id`,
		newPublicID(), len(move), now, now, now, digest).Scan(&half); err != nil {
		return fmt.Errorf("split: record the second half: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET digest_id = ?, updated_at = ? WHERE id IN (?`+strings.Repeat(",?", len(move)-1)+`)`,
		append([]any{half, now}, anys(move)...)...); err != nil {
		return fmt.Errorf("split: move letters: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE digests SET letters = ? WHERE id = ?`, len(keep), digest); err != nil {
		return fmt.Errorf("split: %w", err)
	}
	return nil
}

// matchDigestSQL finds an event's digest by our opaque id (?1) or the
// provider's id (?2…?9), as matchEventSQL does for a message.
const matchDigestSQL = `SELECT id, target_id, status, public_id = ?1, length(provider_message_id), COALESCE(sent_at, created_at) FROM digests
	WHERE public_id = ?1 OR (provider_message_id IN (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) AND provider_message_id <> '')
	ORDER BY public_id = ?1 DESC, length(provider_message_id) DESC LIMIT 1`

// digestMatch is the digest an event names, and how well (matchScore).
type digestMatch struct {
	id             int64
	target, status string
	score          int64
	since          int64 // when it was sent (or formed, not yet recorded as sent)
}

func matchDigest(ctx context.Context, tx *sql.Tx, e sendlog.Event) (digestMatch, bool, error) {
	var d digestMatch
	var ours sql.NullBool
	var idLen sql.NullInt64
	err := tx.QueryRowContext(ctx, matchDigestSQL, matchEventArgs(e)...).Scan(&d.id, &d.target, &d.status, &ours, &idLen, &d.since)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("match digest event: %w", err)
	}
	d.score = matchScore(ours, idLen)
	return d, true, nil
}

// applyDigestEvent records e, which matched digest d, and moves every
// letter in the digest as ApplyEvents moves a single message.
func applyDigestEvent(ctx context.Context, tx *sql.Tx, e sendlog.Event, d digestMatch, now int64, res *EventResult) error {
	digest, targetID, digestStatus := d.id, d.target, d.status
	r, err := tx.ExecContext(ctx, `INSERT INTO message_events (digest_id, event_id, event, type, reason, occurred_at, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
		digest, eventID(e), e.Event, e.Type, e.Reason, occurredAt(e.Timestamp, now, d.since), now)
	if err != nil {
		return fmt.Errorf("insert digest event: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		res.Duplicates++
		return nil
	}
	res.Stored++
	// A digest formed and not yet handed to the provider: the event is
	// recorded and changes nothing (as for a single message).
	if !sendlog.Handed(sendlog.Status(digestStatus)) {
		return nil
	}
	if next := sendlog.StatusFor(e); next != "" {
		// Only statuses ranked below next move; a letter cancelled
		// (its writer erased) stays cancelled.
		if lower := next.Below(); len(lower) > 0 {
			u, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, updated_at = ?
				WHERE digest_id = ? AND status IN (`+sendlog.SQLList(lower...)+`)`, next, now, digest)
			if err != nil {
				return fmt.Errorf("move digest letters: %w", err)
			}
			n, _ := u.RowsAffected()
			res.Moved += int(n)
		}
	}
	if sendlog.HardProblem(e) {
		if err := flagTarget(ctx, tx, targetID, e, now); err != nil {
			return err
		}
	}
	if sendlog.Pushback(e) {
		return notePushback(ctx, tx, targetID, e, now)
	}
	return nil
}

// flagTarget marks a target as needing attention after e.
func flagTarget(ctx context.Context, tx *sql.Tx, targetID string, e sendlog.Event, now int64) error {
	note := e.Event
	if e.Reason != "" {
		note += ": " + e.Reason
	}
	return flagTargetNote(ctx, tx, targetID, note, now)
}

// flagTargetNote marks a target as needing attention, with note, and
// reports it to the target.flagged webhooks.
func flagTargetNote(ctx context.Context, tx *sql.Tx, targetID, note string, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO target_state (target_id, needs_attention, attention_note, updated_at)
		VALUES (?, 1, ?, ?)
		ON CONFLICT (target_id) DO UPDATE SET needs_attention = 1, attention_note = excluded.attention_note, updated_at = excluded.updated_at`,
		targetID, note, now); err != nil {
		return fmt.Errorf("mark target: %w", err)
	}
	return appendHook(ctx, tx, hookevent.Event{Type: hookevent.TargetFlagged, Personal: hookevent.Target{ID: targetID, Reason: note}}, now)
}

// DigestRow is one digest as the console lists it.
type DigestRow struct {
	ID                int64
	Campaign          string
	TargetID          string
	Status            string
	Letters           int
	Attempts          int
	LastError         string
	ProviderMessageID string
	CreatedAt         time.Time
	SentAt            *time.Time
}

const digestCols = `id, campaign, target_id, status, letters, attempts, last_error, provider_message_id, created_at, sent_at`

func scanDigestRow(sc interface{ Scan(...any) error }) (DigestRow, error) {
	var d DigestRow
	var created int64
	var sent sql.NullInt64
	if err := sc.Scan(&d.ID, &d.Campaign, &d.TargetID, &d.Status, &d.Letters, &d.Attempts, &d.LastError,
		&d.ProviderMessageID, &created, &sent); err != nil {
		return d, err
	}
	d.CreatedAt, d.SentAt = time.UnixMilli(created).UTC(), msToTime(sent)
	return d, nil
}

// Digest returns one digest; ErrNotFound when there is none.
func (s *Store) Digest(ctx context.Context, id int64) (DigestRow, error) {
	d, err := scanDigestRow(s.r.QueryRowContext(ctx, `SELECT `+digestCols+` FROM digests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: digest %d: %w", id, err)
	}
	return d, nil
}

// DigestLettersOf returns every letter a digest carries or carried,
// whatever their status now, with the target's fields recorded when it
// was formed (the console's digest page renders the email from them).
func (s *Store) DigestLettersOf(ctx context.Context, digest int64) ([]DigestLetter, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, s.subject, s.body, s.first_name, s.last_name, s.postcode, COALESCE(m.rendered, ''), s.similarity,
			COALESCE(m.target_name, ''), COALESCE(m.target_title, ''), COALESCE(m.salutation, '')
		FROM messages m JOIN supporters s ON s.id = m.supporter_id
		WHERE m.digest_id = ? ORDER BY m.id`, digest)
	if err != nil {
		return nil, fmt.Errorf("store: digest %d letters: %w", digest, err)
	}
	out, err := scanDigestLetters(rows)
	if err != nil {
		return nil, fmt.Errorf("store: digest %d letters: %w", digest, err)
	}
	return out, nil
}

// Digests returns a campaign's digests, newest first, at most limit.
func (s *Store) Digests(ctx context.Context, campaign string, limit int) ([]DigestRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+digestCols+`
		FROM digests WHERE campaign = ? ORDER BY id DESC LIMIT ?`, campaign, limit)
	if err != nil {
		return nil, fmt.Errorf("store: digests: %w", err)
	}
	defer rows.Close()
	var out []DigestRow
	for rows.Next() {
		d, err := scanDigestRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: digests: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DigestMessages returns the ids of the letters in a digest.
func (s *Store) DigestMessages(ctx context.Context, digest int64) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM messages WHERE digest_id = ? ORDER BY id`, digest)
	if err != nil {
		return nil, fmt.Errorf("store: digest %d messages: %w", digest, err)
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: digest %d messages: %w", digest, err)
	}
	return ids, nil
}
