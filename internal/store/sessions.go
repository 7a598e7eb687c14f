package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// Console sessions: a signed cookie names a session id, and the session is
// live only while its row is here (revocable at logout). Ids are kept as
// their SHA-256.

func sessionHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// CreateAdminSession records a new console session until expires, and
// forgets expired ones.
func (s *Store) CreateAdminSession(ctx context.Context, id string, expires time.Time) error {
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE expires_at <= ?`, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_sessions (id_hash, created_at, expires_at) VALUES (?, ?, ?)`,
			sessionHash(id), now, expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create admin session: %w", err)
	}
	return nil
}

// AdminSessionActive reports whether a console session exists and has not
// expired.
func (s *Store) AdminSessionActive(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM admin_sessions WHERE id_hash = ? AND expires_at > ?`,
		sessionHash(id), s.nowMs()).Scan(&n); err != nil {
		return false, fmt.Errorf("store: admin session: %w", err)
	}
	return n > 0, nil
}

// EndAdminSession removes a console session (logout).
func (s *Store) EndAdminSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM admin_sessions WHERE id_hash = ?`, sessionHash(id)); err != nil {
		return fmt.Errorf("store: end admin session: %w", err)
	}
	return nil
}
