package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
)

// CampaignRow is a campaign as stored: its content is a document owned by
// internal/campaign.
type CampaignRow struct {
	Slug   string
	Doc    string
	Status string
	Source string // "file" or "console"
	// ConsoleParts are the parts of a campaign from the file that were
	// edited in the console, comma-separated (internal/campaign.Part).
	ConsoleParts string
	StartsAt     *time.Time
	EndsAt       *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ErrExists is returned when a row with the same key already exists.
var ErrExists = errors.New("store: already exists")

// Campaigns returns every campaign, oldest first.
func (s *Store) Campaigns(ctx context.Context) ([]CampaignRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT slug, doc, status, source, console_parts, starts_at, ends_at, created_at, updated_at
		FROM campaigns ORDER BY created_at, slug`)
	if err != nil {
		return nil, fmt.Errorf("store: campaigns: %w", err)
	}
	defer rows.Close()
	var out []CampaignRow
	for rows.Next() {
		var c CampaignRow
		var starts, ends sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&c.Slug, &c.Doc, &c.Status, &c.Source, &c.ConsoleParts, &starts, &ends, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: campaigns: %w", err)
		}
		c.StartsAt, c.EndsAt = msToTime(starts), msToTime(ends)
		c.CreatedAt, c.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateCampaign stores a new campaign; ErrExists when the slug is taken.
func (s *Store) CreateCampaign(ctx context.Context, c CampaignRow) error {
	now := s.nowMs()
	_, err := s.w.ExecContext(ctx, `INSERT INTO campaigns (slug, doc, status, source, console_parts, starts_at, ends_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Slug, c.Doc, c.Status, c.Source, c.ConsoleParts, timeToMs(c.StartsAt), timeToMs(c.EndsAt), now, now)
	if isUniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("store: create campaign %s: %w", c.Slug, err)
	}
	return nil
}

// UpdateCampaign replaces a campaign's content, status, source and times;
// ErrNotFound when there is none with that slug.
func (s *Store) UpdateCampaign(ctx context.Context, c CampaignRow) error {
	now := s.nowMs()
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET doc = ?, status = ?, source = ?, console_parts = ?, starts_at = ?, ends_at = ?, updated_at = ?
		WHERE slug = ?`, c.Doc, c.Status, c.Source, c.ConsoleParts, timeToMs(c.StartsAt), timeToMs(c.EndsAt), now, c.Slug)
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		return appendHook(ctx, tx, hookevent.Event{Type: hookevent.CampaignUpdated, Campaign: c.Slug,
			Personal: hookevent.Campaign{Slug: c.Slug, Status: c.Status}}, now)
	})
	if err != nil {
		return fmt.Errorf("store: update campaign %s: %w", c.Slug, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CampaignFileApplied reports whether the campaign file with this hash has
// been in force for the campaign.
func (s *Store) CampaignFileApplied(ctx context.Context, slug, hash string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_files WHERE slug = ? AND hash = ?`, slug, hash).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: campaign file %s: %w", slug, err)
	}
	return n > 0, nil
}

// RecordCampaignFile notes that the campaign file with this hash is in
// force for the campaign.
func (s *Store) RecordCampaignFile(ctx context.Context, slug, hash string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO campaign_files (slug, hash, applied_at) VALUES (?, ?, ?)
		ON CONFLICT (slug, hash) DO UPDATE SET applied_at = excluded.applied_at`, slug, hash, s.nowMs())
	if err != nil {
		return fmt.Errorf("store: record campaign file %s: %w", slug, err)
	}
	return nil
}

func timeToMs(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}
