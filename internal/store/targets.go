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
