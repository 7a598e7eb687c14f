package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/sendlog"
)

// matchEventSQL finds an event's message by our opaque id (?1) or by the
// provider's id, which is one of sendlog.MaxProviderIDs candidates (?2…?9;
// unused ones empty): the prefixes of sg_message_id that may be the stored
// X-Message-Id. Our id wins, then the longest provider id. Written so that
// SQLite looks up both indexes rather than scanning.
const matchEventSQL = `SELECT id, status, target_id, public_id = ?1, length(provider_message_id), COALESCE(sent_at, queued_at) FROM messages
	WHERE public_id = ?1 OR (provider_message_id IN (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) AND provider_message_id <> '')
	ORDER BY public_id = ?1 DESC, length(provider_message_id) DESC LIMIT 1`

// matchScore ranks a match: our own id beats any provider id, a longer
// provider id a shorter one.
func matchScore(ours sql.NullBool, idLen sql.NullInt64) int64 {
	if ours.Bool {
		return 1 << 40
	}
	return idLen.Int64
}

// matchEventArgs are matchEventSQL's arguments for e.
func matchEventArgs(e sendlog.Event) []any {
	args := make([]any, 1+sendlog.MaxProviderIDs)
	args[0] = e.OutcryID
	for i := range sendlog.MaxProviderIDs {
		args[1+i] = ""
	}
	for i, id := range e.ProviderMessageIDs() {
		args[1+i] = id
	}
	return args
}

// EventResult counts what one webhook post did.
type EventResult struct {
	Stored     int // new events recorded
	Duplicates int // events already recorded (same event id)
	Unmatched  int // events for no message of ours (not recorded)
	Moved      int // messages whose status changed
}

// ApplyEvents records delivery events and moves their messages' status
// forward: an event is matched by our opaque id, else by the provider's
// message id; it is deduplicated by its event id; a late event never moves a
// message backwards (sendlog.Status.Rank). A hard bounce, a spam report or a drop
// of a suppressed address (sendlog.HardProblem) marks the target as needing
// attention, which stops further sends to it; a deferral or a soft bounce
// (sendlog.Pushback) is noted for the target's back-off (StepPushback).
//
// An event for no message of ours is counted and dropped: kept, they would
// let anyone who can post fill the disk. An event for a message not yet
// handed to the provider (sendlog.Handed) is recorded and changes nothing,
// so that it never stops the message's sending. An event time outside
// webhook's bounds, or more than a day ahead, is recorded as the time it
// was received; a time before the message was sent is recorded as its send
// time.
func (s *Store) ApplyEvents(ctx context.Context, events []sendlog.Event) (EventResult, error) {
	var res EventResult
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		hooks, err := newMessageHooks(ctx, tx, hookevent.MessageDelivered, hookevent.MessageFailed)
		if err != nil {
			return err
		}
		for _, e := range events {
			// The longest known id wins, whether a digest's or a single
			// letter's (our own id before any provider id); on a tie, the
			// digest (its letters carry its provider id).
			d, dok, err := matchDigest(ctx, tx, e)
			if err != nil {
				return err
			}
			var msgID int64
			var status, targetID string
			var ours sql.NullBool
			var idLen sql.NullInt64
			var since int64 // when the message was sent (or queued, not yet recorded as sent)
			err = tx.QueryRowContext(ctx, matchEventSQL, matchEventArgs(e)...).Scan(&msgID, &status, &targetID, &ours, &idLen, &since)
			mok := err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("match event: %w", err)
			}
			if dok && (!mok || d.score >= matchScore(ours, idLen)) {
				// An event on a digest applies to every letter in it.
				if err := applyDigestEvent(ctx, tx, e, d, now, &res); err != nil {
					return err
				}
				continue
			}
			if !mok {
				res.Unmatched++
				continue
			}
			r, err := tx.ExecContext(ctx, `INSERT INTO message_events (message_id, event_id, event, type, reason, occurred_at, received_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
				msgID, eventID(e), e.Event, e.Type, e.Reason, occurredAt(e.Timestamp, now, since), now)
			if err != nil {
				return fmt.Errorf("insert event: %w", err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				res.Duplicates++
				continue
			}
			res.Stored++
			if !sendlog.Handed(sendlog.Status(status)) {
				continue
			}
			if next := sendlog.StatusFor(e); next != "" && next.Rank() > sendlog.Status(status).Rank() {
				if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, updated_at = ? WHERE id = ?`, next, now, msgID); err != nil {
					return fmt.Errorf("move message: %w", err)
				}
				res.Moved++
				switch next {
				case sendlog.Delivered:
					err = hooks.append(ctx, tx, hookevent.MessageDelivered, msgID, string(next), "", now)
				case sendlog.Bounced, sendlog.Dropped:
					err = hooks.append(ctx, tx, hookevent.MessageFailed, msgID, string(next), e.Reason, now)
				}
				if err != nil {
					return err
				}
			}
			if sendlog.HardProblem(e) {
				if err := flagTarget(ctx, tx, targetID, e, now); err != nil {
					return err
				}
			}
			if sendlog.Pushback(e) {
				if err := notePushback(ctx, tx, targetID, e, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return EventResult{}, fmt.Errorf("store: apply events: %w", err)
	}
	return res, nil
}

// occurredAt is an event's time in Unix ms: its timestamp, or now when it
// has none or claims to be more than a day ahead; never before since, the
// time its message was sent (an event cannot come before its email).
func occurredAt(ts, nowMs, since int64) int64 {
	const day = 24 * 60 * 60 * 1000
	if ts <= 0 || ts > sendlog.MaxTimestamp || ts*1000 > nowMs+day {
		return nowMs
	}
	return max(ts*1000, min(since, nowMs))
}

// eventID is SendGrid's event id, or a digest of the event when it has none,
// so that a resent post is still recognized.
func eventID(e sendlog.Event) string {
	if e.SGEventID != "" {
		return e.SGEventID
	}
	h := sha256.Sum256([]byte(e.SGMessageID + "\x00" + e.OutcryID + "\x00" + e.Event + "\x00" + e.Type + "\x00" + strconv.FormatInt(e.Timestamp, 10)))
	return "digest:" + hex.EncodeToString(h[:16])
}
