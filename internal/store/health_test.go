package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// lockDB holds a write lock on the database at path from another
// connection, as another process would, until the returned func is called.
func lockDB(t *testing.T, path string) func() {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO settings (key, value, updated_at) VALUES ('lock', '', 0)`); err != nil {
		t.Fatal(err)
	}
	return func() {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		conn.Close()
		db.Close()
	}
}

// Issue 16, item 8: writes that fail because the database is locked are
// counted, and the write probe says so.
func TestWriteFailuresAreCounted(t *testing.T) {
	sqliteOnly(t) // a test of the SQLite file
	path := filepath.Join(t.TempDir(), "health.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.ProbeWrite(ctx); err != nil || s.WriteFailures() != 0 {
		t.Fatalf("probe on a healthy database: %v, %d failures", err, s.WriteFailures())
	}
	if _, err := s.w.Exec(`PRAGMA busy_timeout = 20`); err != nil { // fail fast under the lock
		t.Fatal(err)
	}
	unlock := lockDB(t, path)
	if err := s.ProbeWrite(ctx); err == nil {
		t.Fatal("probe succeeded while another connection holds the write lock")
	}
	if _, err := s.CreateLetter(ctx, sup("a@x.org"), msgs("t1")); err == nil {
		t.Fatal("a letter was written while the database is locked")
	}
	if n := s.WriteFailures(); n != 2 {
		t.Fatalf("%d write failures counted, want 2", n)
	}
	if at, err := s.lastWriteFailure(); at.IsZero() || err == nil {
		t.Fatalf("last failure: %v %v", at, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("reads still work: %v", err)
	}
	unlock()
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("probe after the lock is gone: %v", err)
	}
	// A constraint error is the caller's, not the storage's.
	if _, err := s.w.Exec(`INSERT INTO settings (key, value, updated_at) VALUES ('health:probe', '', 0)`); err == nil || storageFailure(err) {
		t.Fatalf("duplicate key: %v, storage failure %v", err, storageFailure(err))
	}
}
