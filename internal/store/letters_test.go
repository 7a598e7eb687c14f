package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// 50 concurrent submits from one address share group transactions: exactly
// one is created, the counter counts one supporter.
func TestGroupCommitSameAddressOnce(t *testing.T) {
	s := openTest(t)
	var wg sync.WaitGroup
	var created atomic.Int64
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.CreateLetter(context.Background(), sup("Same@example.org"), msgs("a", "b", "c", "d"))
			if err != nil {
				errs <- err
			}
			if ok {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := created.Load(); n != 1 {
		t.Fatalf("created = %d, want exactly 1", n)
	}
	for q, want := range map[string]int{
		"SELECT COUNT(*) FROM supporters":                      1,
		"SELECT COUNT(*) FROM messages":                        4,
		"SELECT supporters FROM counters WHERE campaign = 'c'": 1,
	} {
		if n := countRows(t, s, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

// Many distinct concurrent letters are all written, and counted.
func TestGroupCommitConcurrentDistinct(t *testing.T) {
	s := openTest(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.CreateLetter(context.Background(), sup(fmt.Sprintf("p%d@example.org", i)), msgs("a", "b"))
			if err == nil && !ok {
				err = fmt.Errorf("letter %d not created", i)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := countRows(t, s, "SELECT COUNT(*) FROM messages"); got != 2*n {
		t.Fatalf("messages = %d, want %d", got, 2*n)
	}
	if got := countRows(t, s, "SELECT supporters FROM counters WHERE campaign = 'c'"); got != n {
		t.Fatalf("counter = %d, want %d", got, n)
	}
}

// One batch holding a good letter, a failing letter (two messages to the
// same target break the unique key), a repeat of the first address and
// another good letter: the failure is rolled back alone and reported to its
// caller only; the others are written and counted.
func TestGroupCommitFailureIsolated(t *testing.T) {
	s := openTest(t)
	jobs := []*letterJob{
		{sup: sup("one@example.org"), targets: msgs("a", "b")},
		{sup: sup("bad@example.org"), targets: msgs("a", "a")},
		{sup: sup("one@example.org"), targets: msgs("a", "b")},
		{sup: sup("two@example.org"), targets: msgs("a", "b")},
	}
	for _, j := range jobs {
		j.done = make(chan letterResult, 1)
	}
	s.writeGroup(context.Background(), jobs)
	want := []struct {
		created bool
		failed  bool
	}{{true, false}, {false, true}, {false, false}, {true, false}}
	for i, j := range jobs {
		r := <-j.done
		if (r.id != 0) != want[i].created || (r.err != nil) != want[i].failed {
			t.Errorf("job %d: id=%v err=%v, want created=%v failed=%v", i, r.id, r.err, want[i].created, want[i].failed)
		}
	}
	for q, want := range map[string]int{
		"SELECT COUNT(*) FROM supporters":                                 2,
		"SELECT COUNT(*) FROM supporters WHERE email = 'bad@example.org'": 0,
		"SELECT COUNT(*) FROM messages":                                   4,
		"SELECT supporters FROM counters WHERE campaign = 'c'":            2,
		"SELECT COUNT(*) FROM messages m JOIN supporters s ON s.id = m.supporter_id WHERE s.email = 'two@example.org'": 2,
	} {
		if n := countRows(t, s, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

// A cancelled caller gets its error without writing anything.
func TestGroupCommitCancelledContext(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.CreateLetter(ctx, sup("x@example.org"), msgs("a")); err == nil {
		t.Fatal("want an error for a cancelled context")
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM supporters"); n != 0 {
		t.Fatalf("supporters = %d, want 0", n)
	}
}

func TestPurgeLetterText(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.CreateLetter(ctx, letterSup("a@example.org"), msgs("t1", "t2"))
	s.CreateLetter(ctx, letterSup("b@example.org"), msgs("t1", "t2"))
	got := claimN(t, s, 3) // a's two, b's first
	s.Finish(ctx, []sendlog.Outcome{
		{ID: got[0].ID, Status: "sent", Attempted: true, ProviderID: "p1"},
		{ID: got[1].ID, Status: "failed", Attempted: true, Error: "bad"},
		{ID: got[2].ID, Status: "sent", Attempted: true, ProviderID: "p2"},
	})
	now = now.Add(91 * 24 * time.Hour)
	n, err := s.PurgeLetterText(ctx, now.Add(-90*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want a's letter, every copy final for more than 90 days", n, err)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE email = 'a@example.org' AND body = '' AND subject = ''`); n != 1 {
		t.Fatal("a's letter kept its text")
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE email = 'b@example.org' AND body = 'b'`); n != 1 {
		t.Fatal("b's letter lost its text while a copy still waits to be sent")
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM messages`); n != 4 {
		t.Fatal("purging removed log rows")
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM messages WHERE status = 'sent' AND provider_message_id = 'p1'`); n != 1 {
		t.Fatal("the sent row lost its log data")
	}
	if n, _ := s.PurgeLetterText(ctx, now.Add(-90*24*time.Hour)); n != 0 {
		t.Fatal("a second purge changed rows")
	}
}
