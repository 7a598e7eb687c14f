// Package store keeps outcry's data: supporters, the messages table (send
// log and outbox), delivery events and small settings, in SQLite (a file,
// the default) or PostgreSQL (shared by several instances, postgres.go).
// All SQL lives in this package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the database. Writes go through one connection (SQLite allows one
// writer at a time; more connections only add SQLITE_BUSY); reads use a pool.
type Store struct {
	w   *sql.DB
	r   *sql.DB
	d   dialect // what the SQL spells differently on PostgreSQL (w and r are then one pool)
	now func() time.Time
	// clockSet: a test replaced now, which the leases then use on
	// PostgreSQL too (they use the server's clock otherwise: leaseNow).
	clockSet bool

	letters letterWriter  // group commit of CreateLetter (letters.go)
	claims  atomic.Uint64 // claims made (the campaign each starts with)
	health  writeHealth   // storage failures of writes (health.go)
	erased  erasedCache   // campaigns nobody was erased from (supporters.go)

	letterStmts *letterStmts  // the sign path's statements, prepared once (letters.go)
	cp          *checkpointer // WAL checkpoints off the writer's path (checkpoint.go); nil on PostgreSQL
}

// Open opens (creating if needed) the database at path and migrates it:
// a SQLite file, or the PostgreSQL database a postgres:// URL names.
func Open(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgresStore(ctx, path)
	}
	// The writer checkpoints as SQLite does by default (every 1,000 pages of
	// WAL); checkpoint.go truncates the WAL when letters stop (issue 29).
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, now: time.Now}
	if err := s.migrate(ctx, math.MaxInt); err != nil {
		w.Close()
		return nil, err
	}
	if s.letterStmts, err = prepareLetterStmts(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: ping %s: %w", path, err)
	}
	if err := s.startCheckpoints(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dsn sets busy_timeout first, then WAL, synchronous=NORMAL, foreign keys,
// temporary storage in memory, and secure_delete: deleted and overwritten
// content is zeroed in the file, so that an erased supporter is gone from
// the bytes on disk too, not only from the tables (see EraseSupporter).
func dsn(path string, readOnly bool, more ...string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)") // savepoint journals of group commits stay in memory
	q.Add("_pragma", "secure_delete(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	for _, p := range more {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	if s.cp != nil {
		s.cp.close()
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.letterStmts != nil {
		s.letterStmts.close()
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// SetClock replaces time.Now (tests).
func (s *Store) SetClock(now func() time.Time) { s.now, s.clockSet = now, true }

func (s *Store) nowMs() int64 { return s.now().UnixMilli() }

// tx runs fn in a write transaction on the writer connection. On
// PostgreSQL a transaction that another instance's deadlocked with runs
// again (fn must be safe to repeat), up to three times.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tx1(ctx, fn)
		if !s.d.pg || attempt == 3 || !retryable(err) {
			return err
		}
	}
}

func (s *Store) tx1(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		s.noteWrite(err)
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		s.noteWrite(err)
		return err
	}
	err = tx.Commit()
	s.noteWrite(err)
	return err
}

func msToTime(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := time.UnixMilli(ms.Int64).UTC()
	return &t
}

// scanIDs reads a one-column result of ids and closes it, so that the
// transaction can run other statements on them.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ids, rows.Close()
}

// anys turns ids into query arguments.
func anys(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// DSN is the modernc connection string Open uses for the writer connection
// (the same pragmas and immediate transactions). The benchmark's baseline
// opens its own database with it so that both run on equal terms.
func DSN(path string) string { return dsn(path, false) }
