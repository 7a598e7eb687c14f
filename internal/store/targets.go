package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RecordRemovedTarget remembers that a target id was removed from the
// targets file, so that it is never given to another target.
func (s *Store) RecordRemovedTarget(ctx context.Context, id, name string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO removed_targets (target_id, name, removed_at) VALUES (?, ?, ?)
		ON CONFLICT (target_id) DO UPDATE SET name = excluded.name, removed_at = excluded.removed_at`, id, name, s.nowMs())
	if err != nil {
		return fmt.Errorf("store: record removed target %s: %w", id, err)
	}
	return nil
}

// TargetIDUsed reports whether an id was used by a target before: one
// removed in the console, or one that messages in the send log name (a
// target removed from the file by hand). what says which, for the
// organizer ("" when unused).
func (s *Store) TargetIDUsed(ctx context.Context, id string) (used bool, what string, err error) {
	var name string
	err = s.r.QueryRowContext(ctx, `SELECT name FROM removed_targets WHERE target_id = ?`, id).Scan(&name)
	switch {
	case err == nil:
		if name == "" {
			name = id
		}
		return true, "a removed target (" + name + ")", nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, "", fmt.Errorf("store: target id used %s: %w", id, err)
	}
	// message_counts has a row per campaign, target and status ever seen:
	// a few rows, read instead of the send log.
	var one int
	err = s.r.QueryRowContext(ctx, `SELECT 1 FROM message_counts WHERE target_id = ? LIMIT 1`, id).Scan(&one)
	switch {
	case err == nil:
		return true, "a target that messages in the send log were sent to", nil
	case errors.Is(err, sql.ErrNoRows):
		return false, "", nil
	}
	return false, "", fmt.Errorf("store: target id used %s: %w", id, err)
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
		targetID, intFlag(paused), s.nowMs())
	if err != nil {
		return fmt.Errorf("store: pause target %s: %w", targetID, err)
	}
	return nil
}

// ClearNeedsAttention clears a target's needs-attention flag and note. A
// target flagged after a day at the back-off's floor (StepPushback) is
// watched afresh: flagged again after another day there.
func (s *Store) ClearNeedsAttention(ctx context.Context, targetID string) error {
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE target_state SET needs_attention = 0, attention_note = '', updated_at = ?
			WHERE target_id = ?`, now, targetID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE target_pushback SET flagged = 0, floor_since = ?, updated_at = ?
			WHERE target_id = ? AND flagged = 1`, now, now, targetID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: clear attention %s: %w", targetID, err)
	}
	return nil
}

// CampaignTargetStatusCounts is TargetStatusCounts for one campaign's
// messages only.
func (s *Store) CampaignTargetStatusCounts(ctx context.Context, campaign string) (map[string]map[string]int, error) {
	return s.targetStatusCounts(ctx, "campaign target status counts", ` AND campaign = ?`, campaign)
}

// TargetStatusCounts returns, per target, the number of messages in each
// status, read from message_counts (kept exact by triggers: migration 005).
func (s *Store) TargetStatusCounts(ctx context.Context) (map[string]map[string]int, error) {
	return s.targetStatusCounts(ctx, "target status counts", "")
}

// targetStatusCounts reads message_counts per target and status, with an
// optional extra condition (and its arguments) on the rows counted.
func (s *Store) targetStatusCounts(ctx context.Context, what, where string, args ...any) (map[string]map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, status, SUM(n) FROM message_counts
		WHERE n > 0`+where+` GROUP BY target_id, status`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var id, st string
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		if out[id] == nil {
			out[id] = map[string]int{}
		}
		out[id][st] = n
	}
	return out, rows.Err()
}
