package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CopyClaim is what ClaimReceiptCopy decided.
type CopyClaim int

const (
	CopyGranted   CopyClaim = iota + 1 // recorded: send it now
	CopyTooSoon                        // a proven supporter had one less than the interval ago
	CopyNotProven                      // the address has not proven itself, or already had its one copy
	CopyBusy                           // the site's copies for this minute are spent
	CopyMissing                        // no such supporter (purged, erased)
)

// ReceiptCopyRules are the limits of receipt copies, held in the database
// so that every instance counts them together.
type ReceiptCopyRules struct {
	// Fresh: the writer proved this browser wrote the letter a moment ago
	// (the caller checked the form's cookie and the time). Such a writer who
	// has not confirmed their address gets one copy, ever.
	Fresh bool
	// Every is the least time between two copies to a confirmed supporter.
	Every time.Duration
	// PerMinute bounds the copies of the whole site in one minute.
	PerMinute int
	// Now is the caller's clock (zero: the store's).
	Now time.Time
}

// ClaimReceiptCopy records a copy of supporter id's letter about to be
// emailed, when the rules allow one. A confirmed supporter (confirmed_at set:
// they followed the confirmation link) may have one per r.Every; anyone else
// one, ever, and only when r.Fresh. The supporter's row and the site's budget
// are changed in one transaction by conditional writes, so two instances
// cannot both grant the same copy.
func (s *Store) ClaimReceiptCopy(ctx context.Context, id int64, r ReceiptCopyRules) (CopyClaim, error) {
	now := s.nowMs()
	if !r.Now.IsZero() {
		now = r.Now.UnixMilli()
	}
	fresh := 0
	if r.Fresh {
		fresh = 1
	}
	claim := CopyMissing
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var confirmed, last sql.NullInt64
		var sent int64
		err := tx.QueryRowContext(ctx, `SELECT confirmed_at, copies_sent, copy_sent_at FROM supporters
			WHERE id = ? AND erased_at IS NULL`, id).Scan(&confirmed, &sent, &last)
		if err == sql.ErrNoRows {
			claim = CopyMissing
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE supporters SET copies_sent = copies_sent + 1, copy_sent_at = ?
			WHERE id = ? AND erased_at IS NULL AND (
				(confirmed_at IS NOT NULL AND (copy_sent_at IS NULL OR copy_sent_at <= ?))
				OR (confirmed_at IS NULL AND copies_sent = 0 AND ? = 1))`,
			now, id, now-r.Every.Milliseconds(), fresh)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			claim = CopyNotProven
			if confirmed.Valid {
				claim = CopyTooSoon
			}
			return nil
		}
		window := now - now%60000
		res, err = tx.ExecContext(ctx, `INSERT INTO mail_budget (kind, window_start, used) VALUES ('receipt', ?, 1)
			ON CONFLICT (kind) DO UPDATE SET
				used = CASE WHEN mail_budget.window_start = excluded.window_start THEN mail_budget.used + 1 ELSE 1 END,
				window_start = excluded.window_start
			WHERE mail_budget.window_start <> excluded.window_start OR mail_budget.used < ?`, window, r.PerMinute)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			claim = CopyBusy
			return errBudgetSpent // roll the supporter's count back
		}
		claim = CopyGranted
		return nil
	})
	if err == errBudgetSpent {
		return CopyBusy, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: claim receipt copy %d: %w", id, err)
	}
	return claim, nil
}

var errBudgetSpent = fmt.Errorf("store: the copies' budget is spent")

// ReleaseReceiptCopy takes back a claimed copy whose email could not be
// sent, so that the supporter may ask again.
func (s *Store) ReleaseReceiptCopy(ctx context.Context, id int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE supporters SET copies_sent = copies_sent - 1, copy_sent_at = NULL
			WHERE id = ? AND copies_sent > 0`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release receipt copy %d: %w", id, err)
	}
	return nil
}
