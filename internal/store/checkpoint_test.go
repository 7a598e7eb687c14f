package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
