package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Letters that get read (issue 24, migration 130): the similarity of each
// letter to the campaign's, the subjects letters went under, and each
// target's private reading page.

// LetterShares are a campaign's letters by how much of them is the
// campaign's text.
type LetterShares struct {
	Measured int // letters whose similarity was measured (written since migration 130)
	Personal int // of those, letters below the threshold: read in full in digests
}

// LetterShares counts a campaign's letters measured and, of those, the
// ones whose similarity is below threshold (OUTCRY_SIMILAR).
func (s *Store) LetterShares(ctx context.Context, campaign string, threshold float64) (LetterShares, error) {
	var out LetterShares
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(similarity), COALESCE(SUM(CASE WHEN similarity < ? THEN 1 ELSE 0 END), 0)
		FROM supporters WHERE campaign = ? AND erased_at IS NULL`, threshold, campaign).Scan(&out.Measured, &out.Personal)
	if err != nil {
		return out, fmt.Errorf("store: letter shares: %w", err)
	}
	return out, nil
}

// SubjectCount is how many letters went under one subject line, and how
// many of their messages were sent.
type SubjectCount struct {
	Subject string
	Letters int
	Sent    int
}

// SubjectCounts returns a campaign's letters by subject line, most used
// first, at most limit subjects.
func (s *Store) SubjectCounts(ctx context.Context, campaign string, limit int) ([]SubjectCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.subject, COUNT(DISTINCT s.id),
			COALESCE(SUM(CASE WHEN m.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0)
		FROM supporters s LEFT JOIN messages m ON m.supporter_id = s.id
		WHERE s.campaign = ? AND s.erased_at IS NULL
		GROUP BY s.subject ORDER BY COUNT(DISTINCT s.id) DESC, s.subject LIMIT ?`, campaign, limit)
	if err != nil {
		return nil, fmt.Errorf("store: subject counts: %w", err)
	}
	defer rows.Close()
	var out []SubjectCount
	for rows.Next() {
		var c SubjectCount
		if err := rows.Scan(&c.Subject, &c.Letters, &c.Sent); err != nil {
			return nil, fmt.Errorf("store: subject counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReadingLink is the state of a target's reading link for a campaign.
type ReadingLink struct {
	Generation int64
	Revoked    bool
}

// ReadingLink returns the state of the reading link of (campaign, target):
// generation 1, not revoked, until the organizer changes it.
func (s *Store) ReadingLink(ctx context.Context, campaign, targetID string) (ReadingLink, error) {
	l := ReadingLink{Generation: 1}
	var revoked int
	err := s.r.QueryRowContext(ctx, `SELECT generation, revoked FROM reading_links WHERE campaign = ? AND target_id = ?`,
		campaign, targetID).Scan(&l.Generation, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("store: reading link: %w", err)
	}
	l.Revoked = revoked != 0
	return l, nil
}

// ReadingLinks returns the reading links of a campaign that differ from the
// first generation, by target.
func (s *Store) ReadingLinks(ctx context.Context, campaign string) (map[string]ReadingLink, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT target_id, generation, revoked FROM reading_links WHERE campaign = ?`, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: reading links: %w", err)
	}
	defer rows.Close()
	out := map[string]ReadingLink{}
	for rows.Next() {
		var id string
		var l ReadingLink
		var revoked int
		if err := rows.Scan(&id, &l.Generation, &revoked); err != nil {
			return nil, fmt.Errorf("store: reading links: %w", err)
		}
		l.Revoked = revoked != 0
		out[id] = l
	}
	return out, rows.Err()
}

// RevokeReadingLink makes the target's current link stop working.
func (s *Store) RevokeReadingLink(ctx context.Context, campaign, targetID string) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO reading_links (campaign, target_id, generation, revoked, updated_at)
		VALUES (?, ?, 1, 1, ?)
		ON CONFLICT (campaign, target_id) DO UPDATE SET revoked = 1, updated_at = excluded.updated_at`,
		campaign, targetID, s.nowMs()); err != nil {
		return fmt.Errorf("store: revoke reading link: %w", err)
	}
	return nil
}

// ReissueReadingLink gives the target a new link: every earlier one stops
// working.
func (s *Store) ReissueReadingLink(ctx context.Context, campaign, targetID string) (ReadingLink, error) {
	var l ReadingLink
	err := s.w.QueryRowContext(ctx, `INSERT INTO reading_links (campaign, target_id, generation, revoked, updated_at)
		VALUES (?, ?, 2, 0, ?)
		ON CONFLICT (campaign, target_id) DO UPDATE SET generation = reading_links.generation + 1, revoked = 0,
			updated_at = excluded.updated_at
		RETURNING generation`, campaign, targetID, s.nowMs()).Scan(&l.Generation)
	if err != nil {
		return l, fmt.Errorf("store: reissue reading link: %w", err)
	}
	return l, nil
}

// ReadingFilter chooses letters for a target's reading page.
type ReadingFilter struct {
	Campaign string
	TargetID string
	Search   string // words in the letter, subject, name or postcode; "" = every letter
	// Before continues a listing: letters sent before (BeforeAt, BeforeID).
	BeforeAt time.Time
	BeforeID int64
	Limit    int
}

// ReadingLetter is one letter as its reader sees it: no email address.
type ReadingLetter struct {
	ID        int64
	SentAt    time.Time
	FirstName string
	LastName  string
	Postcode  string
	Subject   string
	Body      string // "" when the text was removed (retention, erasure)
}

// ReadingLetters returns the letters sent to a target in a campaign,
// newest first.
func (s *Store) ReadingLetters(ctx context.Context, f ReadingFilter) ([]ReadingLetter, error) {
	q := `SELECT m.id, m.sent_at, s.first_name, s.last_name, s.postcode, s.subject, s.body
		FROM messages m JOIN supporters s ON s.id = m.supporter_id
		WHERE m.target_id = ? AND m.campaign = ? AND m.sent_at IS NOT NULL`
	args := []any{f.TargetID, f.Campaign}
	if !f.BeforeAt.IsZero() {
		q += ` AND (m.sent_at < ? OR (m.sent_at = ? AND m.id < ?))`
		at := f.BeforeAt.UnixMilli()
		args = append(args, at, at, f.BeforeID)
	}
	for _, w := range strings.Fields(f.Search) {
		like := "%" + likeEscape(strings.ToLower(w)) + "%"
		q += ` AND (lower(s.body) LIKE ? ESCAPE '\' OR lower(s.subject) LIKE ? ESCAPE '\'
			OR lower(s.first_name || ' ' || s.last_name) LIKE ? ESCAPE '\' OR lower(s.postcode) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like, like)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading letters: %w", err)
	}
	defer rows.Close()
	var out []ReadingLetter
	for rows.Next() {
		var l ReadingLetter
		var at int64
		if err := rows.Scan(&l.ID, &at, &l.FirstName, &l.LastName, &l.Postcode, &l.Subject, &l.Body); err != nil {
			return nil, fmt.Errorf("store: reading letters: %w", err)
		}
		l.SentAt = time.UnixMilli(at).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// DayCount is how many letters reached a target on one day (UTC).
type DayCount struct {
	Day time.Time
	N   int
}

// ReadingDays counts the letters sent to a target in a campaign by day,
// newest first.
func (s *Store) ReadingDays(ctx context.Context, campaign, targetID string) ([]DayCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sent_at / 86400000 AS day, COUNT(*) FROM messages
		WHERE target_id = ? AND campaign = ? AND sent_at IS NOT NULL
		GROUP BY sent_at / 86400000 ORDER BY day DESC`, targetID, campaign)
	if err != nil {
		return nil, fmt.Errorf("store: reading days: %w", err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var day int64
		var c DayCount
		if err := rows.Scan(&day, &c.N); err != nil {
			return nil, fmt.Errorf("store: reading days: %w", err)
		}
		c.Day = time.UnixMilli(day * 86400000).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
