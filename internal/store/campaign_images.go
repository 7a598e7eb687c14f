package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CampaignImage is a campaign's own image as stored (migration 140).
type CampaignImage struct {
	Campaign      string
	ContentType   string
	Data          []byte
	ETag          string
	Width, Height int
	UpdatedAt     time.Time
}

// SaveCampaignImage stores img as its campaign's image, replacing any.
func (s *Store) SaveCampaignImage(ctx context.Context, img CampaignImage) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO campaign_images (campaign, content_type, data, etag, width, height, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (campaign) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
			etag = excluded.etag, width = excluded.width, height = excluded.height, updated_at = excluded.updated_at`,
		img.Campaign, img.ContentType, img.Data, img.ETag, img.Width, img.Height, s.nowMs())
	if err != nil {
		return fmt.Errorf("store: save image of %s: %w", img.Campaign, err)
	}
	return nil
}

// CampaignImage reads a campaign's image; ok is false when it has none.
func (s *Store) CampaignImage(ctx context.Context, campaign string) (img CampaignImage, ok bool, err error) {
	var at int64
	err = s.r.QueryRowContext(ctx, `SELECT campaign, content_type, data, etag, width, height, updated_at
		FROM campaign_images WHERE campaign = ?`, campaign).Scan(&img.Campaign, &img.ContentType, &img.Data, &img.ETag,
		&img.Width, &img.Height, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return CampaignImage{}, false, nil
	case err != nil:
		return CampaignImage{}, false, fmt.Errorf("store: image of %s: %w", campaign, err)
	}
	img.UpdatedAt = time.UnixMilli(at).UTC()
	return img, true, nil
}
