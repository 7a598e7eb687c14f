package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/sendlog"
)

// The back-off of targets whose receiving servers push back (issue 28 §4;
// the rule is package pushback's). ApplyEvents notes each push-back in the
// transaction that records its event; the leading sender applies the steps
// due (StepPushback) at each renewal and sends to each target within its
// allowance. The state lives here, so a restart or another instance picks
// it up where it was.

const pushbackColumns = `target_id, level, last_pushback, pushbacks, reason, stepped_at, down_at, floor_since, flagged`

// notePushback records a push-back (sendlog.Pushback) for a target,
// received at now.
func notePushback(ctx context.Context, tx *sql.Tx, targetID string, e sendlog.Event, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO target_pushback (target_id, last_pushback, pushbacks, reason, updated_at)
		VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (target_id) DO UPDATE SET last_pushback = excluded.last_pushback, pushbacks = target_pushback.pushbacks + 1,
			reason = excluded.reason, updated_at = excluded.updated_at`,
		targetID, now, sendlog.PushbackReason(e), now); err != nil {
		return fmt.Errorf("note push-back: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

type rowScanner interface{ Scan(dest ...any) error }

func scanPushback(r rowScanner) (pushback.State, error) {
	var s pushback.State
	var last, stepped, down, floor int64
	var flagged int
	err := r.Scan(&s.Target, &s.Level, &last, &s.Pushbacks, &s.Reason, &stepped, &down, &floor, &flagged)
	s.LastPushback, s.SteppedAt, s.DownAt, s.FloorSince, s.Flagged = fromMs(last), fromMs(stepped), fromMs(down), fromMs(floor), flagged != 0
	return s, err
}

// readPushbacks reads the targets' back-off state; active limits it to
// those with a level above 0 or a push-back since their last step.
func (s *Store) readPushbacks(ctx context.Context, active bool) (map[string]pushback.State, error) {
	q := `SELECT ` + pushbackColumns + ` FROM target_pushback`
	if active {
		q += ` WHERE level > 0 OR last_pushback > stepped_at`
	}
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]pushback.State{}
	for rows.Next() {
		st, err := scanPushback(rows)
		if err != nil {
			return nil, err
		}
		out[st.Target] = st
	}
	return out, rows.Err()
}

// TargetPushbacks returns the back-off state of every target that was
// ever pushed back.
func (s *Store) TargetPushbacks(ctx context.Context) (map[string]pushback.State, error) {
	out, err := s.readPushbacks(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("store: target push-backs: %w", err)
	}
	return out, nil
}

// StepPushback applies the back-off steps due at now under the hourly cap
// (pushback.Next) to every target pushed back, records each step, flags a
// target that stayed FlagAfter at the floor (as a hard bounce does, with
// the target.flagged webhook), and returns each target's level above 0
// and the steps taken. It reads first and writes only when a step is due;
// each write holds only if the row is still as read, so two senders
// stepping at once (a handover) take each step once.
func (s *Store) StepPushback(ctx context.Context, cap int, now time.Time) (map[string]int, []pushback.Step, error) {
	states, err := s.readPushbacks(ctx, true)
	if err != nil {
		return nil, nil, fmt.Errorf("store: step push-back: %w", err)
	}
	levels := map[string]int{}
	var steps []pushback.Step
	for id, st := range states {
		for range 3 { // a state unchanged for hours may owe more than one step
			next, step, ok := pushback.Next(st, cap, now)
			if !ok {
				break
			}
			applied, err := s.applyPushbackStep(ctx, st, next, step)
			if err != nil {
				return nil, nil, fmt.Errorf("store: step push-back %s: %w", id, err)
			}
			if !applied {
				break // changed meanwhile: the next call sees it
			}
			steps = append(steps, step)
			st = next
		}
		if st.Level > 0 {
			levels[id] = st.Level
		}
	}
	return levels, steps, nil
}

// applyPushbackStep writes one step, if the row is still as was read.
func (s *Store) applyPushbackStep(ctx context.Context, was, next pushback.State, step pushback.Step) (bool, error) {
	applied := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		at := step.At.UnixMilli()
		r, err := tx.ExecContext(ctx, `UPDATE target_pushback SET level = ?, pushbacks = 0, stepped_at = ?, down_at = ?, floor_since = ?, flagged = ?, updated_at = ?
			WHERE target_id = ? AND level = ? AND stepped_at = ? AND last_pushback = ? AND flagged = ?`,
			next.Level, ms(next.SteppedAt), ms(next.DownAt), ms(next.FloorSince), intFlag(next.Flagged), at,
			was.Target, was.Level, ms(was.SteppedAt), ms(was.LastPushback), intFlag(was.Flagged))
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO target_pushback_steps (target_id, at, step, from_level, to_level, allowance, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, step.Target, at, string(step.Kind), step.From, step.To, step.Allowance, step.Reason); err != nil {
			return err
		}
		if step.Kind == pushback.Flag {
			note := fmt.Sprintf("its receiving server kept pushing back: %d hours at the floor of 1 email an hour", int(pushback.FlagAfter.Hours()))
			if step.Reason != "" {
				note += " (" + step.Reason + ")"
			}
			if err := flagTargetNote(ctx, tx, step.Target, note, at); err != nil {
				return err
			}
		}
		applied = true
		return nil
	})
	return applied, err
}

// PushbackSteps returns a target's back-off steps, newest first, at most
// limit.
func (s *Store) PushbackSteps(ctx context.Context, targetID string, limit int) ([]pushback.Step, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, at, step, from_level, to_level, allowance, reason FROM target_pushback_steps
		WHERE target_id = ? ORDER BY id DESC LIMIT ?`, targetID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: push-back steps %s: %w", targetID, err)
	}
	defer rows.Close()
	var out []pushback.Step
	for rows.Next() {
		var st pushback.Step
		var at int64
		var kind string
		if err := rows.Scan(&st.Target, &at, &kind, &st.From, &st.To, &st.Allowance, &st.Reason); err != nil {
			return nil, fmt.Errorf("store: push-back steps %s: %w", targetID, err)
		}
		st.At, st.Kind = fromMs(at), pushback.Kind(kind)
		out = append(out, st)
	}
	return out, rows.Err()
}

// PushbackStepCounts counts every target's back-off steps by kind (down,
// up, flag), for /metrics.
func (s *Store) PushbackStepCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT step, COUNT(*) FROM target_pushback_steps GROUP BY step`)
	if err != nil {
		return nil, fmt.Errorf("store: push-back step counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: push-back step counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
