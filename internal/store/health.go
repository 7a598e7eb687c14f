package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// writeHealth remembers failed writes of the storage kind — the database
// locked by another process, the disk full or failing, the file read-only
// — so that /healthz and /metrics can say the database stopped accepting
// writes even while reads still work.
type writeHealth struct {
	failures atomic.Int64
	mu       sync.Mutex
	lastAt   time.Time
	lastErr  error
}

// noteWrite records the outcome of a write transaction.
func (s *Store) noteWrite(err error) {
	// A lost PostgreSQL connection is not held against the database once
	// it answers again: /healthz's ping and probe see it while it lasts.
	if storageFailure(err) && !pgConnectionLost(err) {
		s.recordWriteFailure(err)
	}
}

func (s *Store) recordWriteFailure(err error) {
	s.health.failures.Add(1)
	s.health.mu.Lock()
	s.health.lastAt, s.health.lastErr = s.now(), err
	s.health.mu.Unlock()
}

// Unavailable reports whether err is the database out of reach or unable
// to write (so that a caller answers 503, "try again", rather than 500).
func Unavailable(err error) bool { return storageFailure(err) }

// storageFailure reports whether err is the database failing to write
// rather than a constraint or a caller's mistake.
func storageFailure(err error) bool {
	if pgStorageFailure(err) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// WriteFailures is how many write transactions failed for storage reasons
// since the store was opened (for /metrics).
func (s *Store) WriteFailures() int64 { return s.health.failures.Load() }

// lastWriteFailure is when the last storage failure of a write happened
// (on the store's clock), and its error (zero time: none).
func (s *Store) lastWriteFailure() (time.Time, error) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.lastAt, s.health.lastErr
}

// WriteFailedWithin returns the last write failure if it happened less
// than d ago, else nil.
func (s *Store) WriteFailedWithin(d time.Duration) error {
	at, err := s.lastWriteFailure()
	if err == nil || s.now().Sub(at) >= d {
		return nil
	}
	return fmt.Errorf("a write failed %s ago: %w", s.now().Sub(at).Round(time.Second), err)
}

// ProbeWrite makes one small write (a row in settings) to check that the
// database accepts writes; any failure counts as a write failure (one that
// ran out of time waiting for a lock too). Callers cache its answer: it
// takes the writer.
func (s *Store) ProbeWrite(ctx context.Context) error {
	now := s.nowMs()
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('health:probe', ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, strconv.FormatInt(now, 10), now)
	if err != nil {
		s.recordWriteFailure(err)
		return fmt.Errorf("store: write probe: %w", err)
	}
	return nil
}
