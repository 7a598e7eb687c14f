package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Both purges reach every row when there are more than one batch of them.
func TestPurgesGoPastOneBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	const each = 2*purgeBatch + 3
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < each; i += 16 {
				if _, err := s.CreateLetter(ctx, unconfirmed(fmt.Sprintf("u%d@example.org", i)), msgs("t1")); err != nil {
					errs <- err
				}
				if _, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("c%d@example.org", i)), msgs("t1")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`UPDATE messages SET status = 'sent', updated_at = ? WHERE status = 'queued'`, now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(91 * 24 * time.Hour)

	if n, err := s.PurgeUnconfirmed(ctx, now.Add(-48*time.Hour)); err != nil || n != each {
		t.Fatalf("purged %d unconfirmed, %v; want %d", n, err, each)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE email LIKE 'u%'`); n != 0 {
		t.Fatalf("%d unconfirmed supporters left", n)
	}
	if c, _ := s.SupporterCount(ctx, "c"); c != each {
		t.Fatalf("count = %d, want %d", c, each)
	}
	if n, err := s.PurgeLetterText(ctx, now.Add(-90*24*time.Hour)); err != nil || n != each {
		t.Fatalf("emptied %d letters, %v; want %d", n, err, each)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE body <> '' OR subject <> ''`); n != 0 {
		t.Fatalf("%d letters kept their text", n)
	}
}
