package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A message stuck by a nonsensical X-RateLimit-Reset (due in the year 58888)
// before issue 13 was fixed is due again once the database is migrated;
// a message due within the day keeps its time.
func TestMigrationFreesFarDueTimes(t *testing.T) {
	sqliteOnly(t) // a test of the SQLite file
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "due.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"stuck@x.org", "soon@x.org"} {
		if _, err := s.CreateLetter(ctx, sup(e), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	stuck := time.Unix(1796185077000, 0).UnixMilli()
	soon := time.Now().Add(30 * time.Minute).UnixMilli()
	if _, err := s.w.ExecContext(ctx, `UPDATE messages SET next_attempt_at = CASE WHEN id = (SELECT MIN(id) FROM messages) THEN ? ELSE ? END`, stuck, soon); err != nil {
		t.Fatal(err)
	}
	// As if the database came from before migration 020.
	if _, err := s.w.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 20`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	before := time.Now().UnixMilli()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, `SELECT next_attempt_at FROM messages ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var due []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		due = append(due, d)
	}
	if len(due) != 2 {
		t.Fatalf("%d messages", len(due))
	}
	if due[0] < before-1000 || due[0] > time.Now().UnixMilli()+1000 {
		t.Fatalf("the stuck message is due at %v, want now", time.UnixMilli(due[0]))
	}
	if due[1] != soon {
		t.Fatalf("a message due in 30 minutes moved to %v", time.UnixMilli(due[1]))
	}
}
