package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

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
func matchQuery(f MessageFilter) (from, order string, a []any) {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	pat := "%" + r.Replace(f.Match) + "%"
	// +s.campaign: no index on campaign, so that the supporters are walked
	// by id, newest first, and the walk stops with the page.
	conds := []string{"s.erased_at IS NULL",
		`(s.email LIKE ? ESCAPE '\' OR s.first_name || ' ' || s.last_name LIKE ? ESCAPE '\')`}
	args := []any{pat, pat}
	if f.Campaign != "" { // "": every campaign
		conds = append(conds, "+s.campaign = ?")
		args = append(args, f.Campaign)
	}
	if lo, hi := f.supporters[0], f.supporters[1]; hi > 0 {
		conds = append(conds, "s.id > ? AND s.id <= ?")
		args = append(args, lo, hi)
	}
	// CROSS JOIN keeps the supporters as the outer loop.
	return ` FROM supporters s CROSS JOIN messages m ON m.supporter_id = s.id`, " ORDER BY s.id DESC, m.id DESC",
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
