package store

import (
	"context"
	"fmt"
)

// Source codes (issue 23): the ?source= a supporter came through, kept on
// their row (supporters.source).

// SourceCount is how many supporters of a campaign came through a source
// ("" for none).
type SourceCount struct {
	Source string `json:"source"`
	Count  int    `json:"count"`
}

// SourceCounts counts a campaign's supporters by source, most first (the
// erased count too: their letters were written).
func (s *Store) SourceCounts(ctx context.Context, campaign string) ([]SourceCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT source, COUNT(*) FROM supporters WHERE campaign = ?
		GROUP BY source ORDER BY COUNT(*) DESC, source`, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: source counts: %w", err)
	}
	defer rows.Close()
	out := []SourceCount{}
	for rows.Next() {
		var c SourceCount
		if err := rows.Scan(&c.Source, &c.Count); err != nil {
			return nil, fmt.Errorf("store: source counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Supporters lists a campaign's supporters who have not been erased, in
// the order they wrote, after the id after (0: from the first), at most
// limit.
func (s *Store) Supporters(ctx context.Context, campaign string, after int64, limit int) ([]SupporterRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+supporterRowCols+`
		FROM supporters s WHERE s.campaign = ? AND s.erased_at IS NULL AND s.id > ? ORDER BY s.id LIMIT ?`, campaign, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: supporters: %w", err)
	}
	defer rows.Close()
	var out []SupporterRow
	for rows.Next() {
		r, err := scanSupporterRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: supporters: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
