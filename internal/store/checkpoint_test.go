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

// The writer checkpoints as it writes, so that the WAL stays small under
// continuous letters (a checkpoint beside the writer never caught up with
// it and let the WAL grow to 256 MiB), and once letters stop arriving the
// checkpointer truncates the WAL to nothing (issue 29).
func TestTheWALStaysSmallAndIsTruncatedWhenIdle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := strings.Repeat("a letter of some length. ", 80)
	var largest int64
	for i := 0; i < 3000; i++ {
		if _, _, err := s.WriteLetter(ctx, NewSupporter{Campaign: "c", Email: fmt.Sprintf("cp%d@example.org", i), FirstName: "A", LastName: "B",
			Subject: "s", Body: body}, []string{"t1", "t2"}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	// 3,000 letters of 2 KB write several times 1,000 pages of WAL; the
	// automatic checkpoint starts it again from its beginning each time.
	if largest > 12<<20 {
		t.Errorf("the WAL reached %d bytes during 3,000 letters, want it kept near 1,000 pages (4 MiB) by the writer's checkpoints", largest)
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
