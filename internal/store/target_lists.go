package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TargetList is one version of the list of decision-makers: the text of
// targets.yaml as it was saved, with where it came from.
type TargetList struct {
	Version int64
	YAML    string
	Hash    string // SHA-256 of YAML, hex (computed by the caller)
	Origin  string // "file <host>:<path>", "console <host>", "seed file <host>:<path>"
	SavedAt time.Time
}

// keptTargetLists is how many versions are kept: the latest is in force,
// the older ones tell a stale file (one of them) from a hand edit.
const keptTargetLists = 100

// TargetListConflict is SaveTargetList's error when the latest version is
// no longer the one the save was based on: another instance saved first.
type TargetListConflict struct {
	Expected int64 // the version the save was based on
}

func (e *TargetListConflict) Error() string {
	return fmt.Sprintf("store: the list of targets changed since version %d", e.Expected)
}

// LatestTargetList is the list in force; ok is false when none was saved yet.
func (s *Store) LatestTargetList(ctx context.Context) (l TargetList, ok bool, err error) {
	var at int64
	err = s.r.QueryRowContext(ctx, `SELECT version, yaml, hash, origin, saved_at FROM target_lists
		ORDER BY version DESC LIMIT 1`).Scan(&l.Version, &l.YAML, &l.Hash, &l.Origin, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return TargetList{}, false, nil
	case err != nil:
		return TargetList{}, false, fmt.Errorf("store: latest target list: %w", err)
	}
	l.SavedAt = time.UnixMilli(at).UTC()
	return l, true, nil
}

// LatestTargetListVersion is the number of the list in force (0: none
// yet): what each instance asks every second, without the text.
func (s *Store) LatestTargetListVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM target_lists`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: latest target list version: %w", err)
	}
	return v, nil
}

// SaveTargetList makes version expect+1 of the list, when the latest is
// still expect (0: no list yet), and keeps the last 100 versions. When
// another save came first it returns a *TargetListConflict and changes
// nothing: two instances saving at once cannot both make the same version
// (the primary key lets one insert through, the other inserts nothing).
func (s *Store) SaveTargetList(ctx context.Context, expect int64, yaml, hash, origin string) (int64, error) {
	next := expect + 1
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// A save based on a version older than the latest must fail even
		// when the version after it was pruned (the key would let it in).
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM target_lists`).Scan(&latest); err != nil {
			return err
		}
		if latest != expect {
			return &TargetListConflict{Expected: expect}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO target_lists (version, yaml, hash, origin, saved_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (version) DO NOTHING`, next, yaml, hash, origin, s.nowMs())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return &TargetListConflict{Expected: expect}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM target_lists WHERE version <= ?`, next-keptTargetLists)
		return err
	})
	var conflict *TargetListConflict
	if errors.As(err, &conflict) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("store: save target list version %d: %w", next, err)
	}
	return next, nil
}

// TargetListVersionHash is the latest version whose text has this hash:
// ok is false when that text was never in force (among the versions kept).
func (s *Store) TargetListVersionHash(ctx context.Context, hash string) (version int64, ok bool, err error) {
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM target_lists WHERE hash = ?`, hash).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("store: target list version by hash: %w", err)
	}
	return v.Int64, v.Valid, nil
}
