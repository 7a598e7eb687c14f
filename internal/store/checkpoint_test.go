package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The writer never checkpoints (its COMMIT would wait for the copy): the
// checkpointer does, on its own connection, and once letters stop
// arriving it truncates the WAL to nothing (issue 29).
func TestCheckpointsAreOffTheWritersPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var auto int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint is %d, want 0 (off)", auto)
	}
	body := strings.Repeat("a letter of some length. ", 80)
	for i := 0; i < 3000; i++ {
		if _, _, err := s.WriteLetter(ctx, NewSupporter{Campaign: "c", Email: fmt.Sprintf("cp%d@example.org", i), FirstName: "A", LastName: "B",
			Subject: "s", Body: body}, []string{"t1", "t2"}); err != nil {
			t.Fatal(err)
		}
	}
	if s.cp.runs.Load() == 0 {
		// 3,000 letters of 2 KB are several times checkpointAt: the
		// checkpointer has run at least once meanwhile (PASSIVE).
		t.Log("no checkpoint during the writes (a very slow machine); waiting for the idle one")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		fi, err := os.Stat(path + "-wal")
		if err == nil && fi.Size() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the WAL is still %d bytes long after the letters stopped, want 0 (TRUNCATE when idle)", fi.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM supporters`).Scan(&n); err != nil || n != 3000 {
		t.Fatalf("%d supporters after the checkpoints (%v), want 3000", n, err)
	}
}

// A letter that waited longer than maxQueueWait for its group transaction
// is refused (ErrQueueWait) and nothing of it is written; the letter whose
// transaction was already under way is written (issue 29: past capacity, a
// quick refusal rather than a late answer).
func TestLetterWaitingTooLongIsRefusedUnwritten(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wait.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC).UnixNano())
	s.SetClock(func() time.Time { return time.Unix(0, clock.Load()) })

	lock, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	first, second := make(chan error, 1), make(chan error, 1)
	go func() { _, _, err := s.WriteLetter(ctx, sup("first@example.org"), []string{"t1"}); first <- err }()
	waitUntil(t, "the first letter's transaction waiting for the lock", func() bool {
		s.letters.mu.Lock()
		defer s.letters.mu.Unlock()
		return s.letters.leading && len(s.letters.queue) == 0
	})
	go func() { _, _, err := s.WriteLetter(ctx, sup("second@example.org"), []string{"t1"}); second <- err }()
	waitUntil(t, "the second letter queued", func() bool {
		s.letters.mu.Lock()
		defer s.letters.mu.Unlock()
		return len(s.letters.queue) == 1
	})
	clock.Add(int64(maxQueueWait + time.Millisecond))
	conn.ExecContext(ctx, `ROLLBACK`)
	conn.Close()
	if err := <-first; err != nil {
		t.Fatalf("the letter already in its transaction: %v, want written", err)
	}
	if err := <-second; !errors.Is(err, ErrQueueWait) {
		t.Fatalf("the letter that waited too long: %v, want ErrQueueWait", err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM supporters WHERE email = 'second@example.org'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused letter is stored (%d rows, %v)", n, err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
