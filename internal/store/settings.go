package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
)

// Settings keys used by the organizer console.
const (
	settingPause         = "campaign_pause"
	settingPauseKey      = "campaign_pause_key" // the fingerprint of the API key the provider refused
	settingLetterSubject = "letter_subject:"
	settingLetterBody    = "letter_body:"
)

// setting returns a stored setting; ok is false when it was never set.
func (s *Store) setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return value, true, nil
}

// setSetting stores a setting.
func (s *Store) setSetting(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, s.nowMs())
	if err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// deleteSetting removes a setting.
func (s *Store) deleteSetting(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return fmt.Errorf("store: delete setting %s: %w", key, err)
	}
	return nil
}

// LetterDefaults returns the default subject and body edited in the console
// for a campaign; ok is false when the organizer has not edited them.
func (s *Store) LetterDefaults(ctx context.Context, campaign string) (subject, body string, ok bool, err error) {
	subject, okS, err := s.setting(ctx, settingLetterSubject+campaign)
	if err != nil {
		return "", "", false, err
	}
	body, okB, err := s.setting(ctx, settingLetterBody+campaign)
	if err != nil {
		return "", "", false, err
	}
	return subject, body, okS && okB, nil
}

// ClearLetterDefaults removes a campaign's edited default letter (it now
// lives in the campaign itself).
func (s *Store) ClearLetterDefaults(ctx context.Context, campaign string) error {
	for _, k := range []string{settingLetterSubject + campaign, settingLetterBody + campaign} {
		if err := s.deleteSetting(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// CampaignPause returns whether the organizer paused sending, and why.
func (s *Store) CampaignPause(ctx context.Context) (paused bool, reason string, err error) {
	reason, paused, err = s.setting(ctx, settingPause)
	return paused, reason, err
}

// SetCampaignPause records (paused=true) or clears the organizer's pause.
// Either way the pause is no longer the provider's (SetProviderPause).
func (s *Store) SetCampaignPause(ctx context.Context, paused bool, reason string) error {
	if err := s.deleteSetting(ctx, settingPauseKey); err != nil {
		return err
	}
	if !paused {
		return s.deleteSetting(ctx, settingPause)
	}
	return s.setSetting(ctx, settingPause, reason)
}

// SetProviderPause records a pause the sender decided because the provider
// refused the API key (401/403), with that key's fingerprint, so that a
// process that starts with another key can tell the pause is not its own.
func (s *Store) SetProviderPause(ctx context.Context, reason, keyFingerprint string) error {
	if err := s.setSetting(ctx, settingPause, reason); err != nil {
		return err
	}
	return s.setSetting(ctx, settingPauseKey, keyFingerprint)
}

// PauseKey returns the fingerprint of the API key a provider pause is
// about; ok is false for a pause set from the console (or no pause).
func (s *Store) PauseKey(ctx context.Context) (fingerprint string, ok bool, err error) {
	return s.setting(ctx, settingPauseKey)
}

// Secret returns the random key kept under name in the settings table,
// creating it on first use: it survives restarts, so links and forms
// signed before a restart stay valid.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	key := "secret:" + name
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err == nil {
		return []byte(v), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: read secret %s: %w", name, err)
	}
	v = rand.Text() + rand.Text()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, key, v, s.nowMs()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("store: create secret %s: %w", name, err)
	}
	return []byte(v), nil
}
