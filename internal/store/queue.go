package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/sendlog"
)

// ClaimTarget is a target the sender may send to now: its details as its
// copies will be rendered, and how many of its messages to claim at most.
type ClaimTarget struct {
	ID         string
	Email      string
	Name       string
	Title      string
	Salutation string
	Limit      int
	// Campaigns, when set, are the only campaigns to claim from (the
	// delivery policy sends some campaigns' letters only in digests).
	Campaigns []string
}

// Copy is what the text of one message is rendered from: the supporter's
// letter and the target as recorded at the claim.
type Copy struct {
	Subject    string
	Body       string // the supporter's own text
	FirstName  string
	LastName   string
	Postcode   string
	TargetName string
	Title      string
	Salutation string
	// Rendered is the whole copy of a message queued before the letter was
	// stored once (migration 007); when set, it is the text to send.
	Rendered string
}

// Claimed is one claimed message: what the sender needs but its body, and
// what the body is rendered from.
type Claimed struct {
	sendlog.Message
	Copy Copy
}

// Claim leases, for owner, up to limit due queued messages, taking the
// targets in the order given and at most Limit from each, in due order.
// Paused and flagged targets are skipped.
//
// The cost of a claim depends on the number of targets and campaigns and
// the messages claimed, never on how many messages wait: the queue index
// leads with the target and the campaign and holds only queued messages, so
// each (target, campaign) is one seek, and a target the sender may not mail
// now (capped, paused, flagged) or a paused campaign is skipped before its
// messages are visited. The
// target's current details are written on each claimed message, so the
// copy shown later is the copy sent.
func (s *Store) Claim(ctx context.Context, owner string, limit int, targets []ClaimTarget) ([]Claimed, error) {
	if len(targets) == 0 || limit <= 0 {
		return nil, nil
	}
	targets = slices.DeleteFunc(slices.Clone(targets), func(t ClaimTarget) bool { return t.Limit <= 0 })
	now := s.nowMs()
	var out []Claimed
	err := s.tx(ctx, func(tx *sql.Tx) error {
		held, err := heldTargets(ctx, tx)
		if err != nil {
			return err
		}
		queued, err := queuedCounts(ctx, tx)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET status = `+sqlSending+`, lease_owner = ?,
				public_id = COALESCE(public_id, `+s.d.randomID()+`),
				target_email = ?, target_name = ?, target_title = ?, salutation = ?, updated_at = ?
			-- +status: a message another claim took meanwhile (PostgreSQL
			-- re-reads the row, not the subquery) stays its; the + keeps
			-- SQLite on the ids.
			WHERE `+s.d.noIndex("status")+` = `+sqlQueued+` AND id IN (SELECT id FROM `+s.d.indexedBy("messages", "messages_queue")+`
				WHERE status = `+sqlQueued+` AND target_id = ? AND campaign = ? AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?)
			RETURNING id`)
		if err != nil {
			return fmt.Errorf("prepare claim: %w", err)
		}
		defer stmt.Close()
		var ids []int64
		for _, a := range allocate(targets, held, queued, limit, s.claims.Add(1)) {
			t := targets[a.target]
			rows, err := stmt.QueryContext(ctx, owner, t.Email, t.Name, t.Title, t.Salutation, now, t.ID, a.campaign, now, a.n)
			if err != nil {
				return fmt.Errorf("lease for %s: %w", t.ID, err)
			}
			got, err := scanIDs(rows)
			if err != nil {
				return fmt.Errorf("lease for %s: %w", t.ID, err)
			}
			ids = append(ids, got...)
		}
		if len(ids) == 0 {
			return nil
		}
		out, err = readClaimed(ctx, tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	return out, nil
}

// heldTargets are the targets paused by the organizer or flagged after a
// bounce or complaint: their messages stay queued.
func heldTargets(ctx context.Context, tx queryer) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT target_id FROM target_state WHERE paused = 1 OR needs_attention = 1`)
	if err != nil {
		return nil, fmt.Errorf("held targets: %w", err)
	}
	defer rows.Close()
	held := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("held targets: %w", err)
		}
		held[id] = true
	}
	return held, rows.Err()
}

// queuedCampaigns lists, per target, the campaigns that have queued messages
// for it and are not paused, read from message_counts (a few rows): the
// claim then seeks each (target, campaign) in the queue index, and never
// visits a paused campaign's messages.
func queuedCampaigns(ctx context.Context, tx queryer) (map[string][]string, error) {
	counts, err := queuedCounts(ctx, tx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(counts))
	for target, cs := range counts {
		for _, c := range cs {
			out[target] = append(out[target], c.campaign)
		}
	}
	return out, nil
}

func readClaimed(ctx context.Context, tx *sql.Tx, ids []int64) ([]Claimed, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.id, m.public_id, m.campaign, m.target_id, m.target_name, m.target_email,
			s.email, m.attempts, s.subject, s.body, s.first_name, s.last_name, s.postcode,
			m.target_title, m.salutation, COALESCE(m.rendered, '')
		FROM messages m JOIN supporters s ON s.id = m.supporter_id
		WHERE m.id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("read leased: %w", err)
	}
	defer rows.Close()
	out := make([]Claimed, 0, len(ids))
	for rows.Next() {
		var c Claimed
		m, cp := &c.Message, &c.Copy
		if err := rows.Scan(&m.ID, &m.PublicID, &m.Campaign, &m.TargetID, &m.TargetName, &m.TargetEmail,
			&m.SupporterEmail, &m.Attempts, &cp.Subject, &cp.Body, &cp.FirstName, &cp.LastName, &cp.Postcode,
			&cp.Title, &cp.Salutation, &cp.Rendered); err != nil {
			return nil, fmt.Errorf("read leased: %w", err)
		}
		cp.TargetName = m.TargetName
		m.Subject = cp.Subject
		m.SupporterName = strings.TrimSpace(cp.FirstName + " " + cp.LastName)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// In the order claimed: the claim takes turns, and the sender sends
	// in this order.
	pos := make(map[int64]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	slices.SortFunc(out, func(a, b Claimed) int { return pos[a.ID] - pos[b.ID] })
	return out, nil
}

// RenewLease records that owner's sender is alive for ttl more, returns to
// the queue every message held by a sender that is not (one that crashed:
// its lease ran out; or a message claimed before leases named their
// owner), and elects the sender that sends: owner, when it already is or
// the last one's lease ran out. It also reads the organizer's pause, so
// that a pause set on any instance reaches the one that sends.
func (s *Store) RenewLease(ctx context.Context, owner string, ttl time.Duration) (sendlog.Lease, error) {
	var l sendlog.Lease
	err := s.tx(ctx, func(tx *sql.Tx) error {
		l = sendlog.Lease{}
		// Lease times are lnow's; due times stay this machine's, which
		// claims compare them with.
		now := s.nowMs()
		lnow, err := s.leaseNow(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sender_leases (owner, alive_until) VALUES (?, ?)
			ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until`, owner, lnow+ttl.Milliseconds()); err != nil {
			return fmt.Errorf("renew: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sender_leader (id, owner, alive_until) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, alive_until = excluded.alive_until
			WHERE sender_leader.owner = excluded.owner OR sender_leader.alive_until < ?`, owner, lnow+ttl.Milliseconds(), lnow); err != nil {
			return fmt.Errorf("elect: %w", err)
		}
		var leader string
		if err := tx.QueryRowContext(ctx, `SELECT owner FROM sender_leader WHERE id = 1`).Scan(&leader); err != nil {
			return fmt.Errorf("elect: %w", err)
		}
		l.Leader, l.Holder = leader == owner, leader
		// A letter in a digest stays in it: the digest itself goes back
		// (requeueDigests), so it is sent at most once more, whole.
		res, err := tx.ExecContext(ctx, `UPDATE messages SET status = `+sqlQueued+`, lease_owner = NULL, next_attempt_at = ?, updated_at = ?
			WHERE status = `+sqlSending+` AND digest_id IS NULL AND (lease_owner IS NULL
				OR lease_owner NOT IN (SELECT owner FROM sender_leases WHERE alive_until >= ?))`, now, now, lnow)
		if err != nil {
			return fmt.Errorf("requeue orphans: %w", err)
		}
		l.Requeued, _ = res.RowsAffected()
		d, err := requeueDigests(ctx, tx, now, lnow)
		if err != nil {
			return err
		}
		l.Requeued += d
		err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingPause).Scan(&l.PauseReason)
		switch {
		case err == nil:
			l.Paused = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read pause: %w", err)
		}
		// Leases dead for a day are history: nothing refers to them.
		_, err = tx.ExecContext(ctx, `DELETE FROM sender_leases WHERE alive_until < ?`, lnow-24*time.Hour.Milliseconds())
		return err
	})
	if err != nil {
		return sendlog.Lease{}, fmt.Errorf("store: renew lease: %w", err)
	}
	return l, nil
}

// leaseNow is the time leases are written and compared in. Instances that
// share a PostgreSQL server read its clock, so that a machine whose clock
// runs ahead of the others' cannot see a live lease as run out and send
// beside the sender; on SQLite there is one machine, and one clock.
func (s *Store) leaseNow(ctx context.Context, tx *sql.Tx) (int64, error) {
	if !s.d.pg || s.clockSet {
		return s.nowMs(), nil
	}
	var now int64
	if err := tx.QueryRowContext(ctx, `SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)`).Scan(&now); err != nil {
		return 0, fmt.Errorf("read the server's clock: %w", err)
	}
	return now, nil
}

// ReleaseLease ends owner's lease at a clean shutdown (its claims have
// been given back or finished), and its turn as the sender that sends, so
// that another instance takes over at its next renewal.
func (s *Store) ReleaseLease(ctx context.Context, owner string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sender_leases WHERE owner = ?`, owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE sender_leader SET alive_until = 0 WHERE owner = ?`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release lease: %w", err)
	}
	return nil
}

// FinishLeased records outcomes in one transaction, for the sender owner
// ("" for none): an outcome applies only to a message still leased
// ('sending'), by owner when one is given, so a message cancelled
// meanwhile stays cancelled, and a sender that stalled past its lease
// (another instance took over and claimed the message again) cannot put
// back in the queue, or mark sent, what the new sender is sending. A send
// whose delivery event came first gets its provider id and time recorded.
func (s *Store) FinishLeased(ctx context.Context, owner string, outcomes []sendlog.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// A delivery event may arrive before the send's own outcome is
		// recorded: the message then keeps the status the event gave it.
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET
				status = CASE WHEN status = `+sqlSending+` THEN ? ELSE status END,
				attempts = attempts + ?,
				provider_message_id = CASE WHEN ? <> '' THEN ? ELSE provider_message_id END,
				last_error = ?,
				next_attempt_at = ?,
				lease_owner = NULL,
				sent_at = CASE WHEN ? = `+sqlSent+` THEN ? ELSE sent_at END,
				updated_at = ?
			WHERE id = ? AND ((status = `+sqlSending+` AND (? = '' OR lease_owner = ?))
				OR (? = `+sqlSent+` AND status IN (`+sqlDeferred+`, `+sqlDelivered+`, `+sqlBounced+`, `+sqlDropped+`, `+sqlSpamReport+`) AND sent_at IS NULL))`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		hooks, err := newMessageHooks(ctx, tx, hookevent.MessageSent, hookevent.MessageFailed)
		if err != nil {
			return err
		}
		for _, o := range outcomes {
			attempted := 0
			if o.Attempted {
				attempted = 1
			}
			next := now
			if !o.Next.IsZero() {
				next = o.Next.UnixMilli()
			}
			res, err := stmt.ExecContext(ctx, o.Status, attempted, o.ProviderID, o.ProviderID, o.Error, next,
				o.Status, now, now, o.ID, owner, owner, o.Status)
			if err != nil {
				return fmt.Errorf("message %d: %w", o.ID, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				switch o.Status {
				case sendlog.Sent:
					err = hooks.append(ctx, tx, hookevent.MessageSent, o.ID, string(o.Status), "", now)
				case sendlog.Failed:
					err = hooks.append(ctx, tx, hookevent.MessageFailed, o.ID, string(o.Status), o.Error, now)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish: %w", err)
	}
	return nil
}

// RecentSends returns, per target, when messages were sent since since
// (seeds the sender's per-target hourly cap after a restart).
func (s *Store) RecentSends(ctx context.Context, since time.Time) (map[string][]time.Time, error) {
	// A digest is one email, however many letters it carries.
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, sent_at FROM messages
		WHERE sent_at IS NOT NULL AND sent_at >= ?1 AND digest_id IS NULL
		UNION ALL SELECT target_id, sent_at FROM digests WHERE sent_at >= ?1
		ORDER BY sent_at`, since.UnixMilli())
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
