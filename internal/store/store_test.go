package store

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), testDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sup(email string) NewSupporter {
	return NewSupporter{Campaign: "c", Email: email, FirstName: "Ann", LastName: "Lee"}
}

func msgs(targets ...string) []string { return targets }

func letterSup(email string) NewSupporter {
	s := sup(email)
	s.Subject, s.Body = "s", "b"
	return s
}

// claimN claims the n oldest due messages, skipping the given targets, as
// the outbox does when every target has room: per target, with each
// target's details as they are now.
func claimN(t testing.TB, s *Store, n int, skip ...string) []sendlog.Message {
	t.Helper()
	rows, err := s.r.Query(`SELECT target_id FROM messages WHERE status = 'queued' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id`, s.nowMs())
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]int{}
	var order []string
	taken := 0
	for rows.Next() && taken < n {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(skip, id) {
			continue
		}
		if limits[id] == 0 {
			order = append(order, id)
		}
		limits[id]++
		taken++
	}
	rows.Close()
	var want []ClaimTarget
	for _, id := range order {
		want = append(want, ClaimTarget{ID: id, Email: id + "@example.com", Name: id, Limit: limits[id]})
	}
	got, err := s.Claim(context.Background(), "test-owner", n, want)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]sendlog.Message, len(got))
	for i, c := range got {
		out[i] = c.Message
	}
	return out
}

func countRows(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	for range 2 {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

func TestPragmas(t *testing.T) {
	sqliteOnly(t) // SQLite's query plans and pragmas
	s := openTest(t)
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000"} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestCreateLetterOncePerAddress(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	created, err := s.CreateLetter(ctx, sup("ann@example.org"), msgs("a", "b"))
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	created, err = s.CreateLetter(ctx, sup("ann@example.org"), msgs("a", "b", "c"))
	if err != nil || created {
		t.Fatalf("repeat: created=%v err=%v", created, err)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM messages"); n != 2 {
		t.Fatalf("messages = %d, want 2", n)
	}
	if n, _ := s.SupporterCount(ctx, "c"); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}
}

func TestConcurrentSubmitsMakeOneSupporter(t *testing.T) {
	s := openTest(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.CreateLetter(context.Background(), sup("same@example.org"), msgs("a", "b", "c")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM supporters"); n != 1 {
		t.Fatalf("supporters = %d, want 1", n)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM messages"); n != 3 {
		t.Fatalf("messages = %d, want 3", n)
	}
}

func TestClaimFinishAndLease(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	for _, e := range []string{"a@x.org", "b@x.org"} {
		if _, err := s.CreateLetter(ctx, sup(e), msgs("t1", "t2")); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := s.RenewLease(ctx, "test-owner", time.Minute); err != nil || !l.Leader {
		t.Fatalf("the first sender to renew does not lead: %+v (%v)", l, err)
	}
	got := claimN(t, s, 3, "t2")
	if len(got) != 2 || got[0].TargetID != "t1" || got[1].TargetID != "t1" {
		t.Fatalf("claimed %+v, want the two t1 messages (t2 is skipped)", got)
	}
	if got[0].SupporterEmail != "a@x.org" || got[0].SupporterName != "Ann Lee" || got[0].PublicID == "" {
		t.Fatalf("claimed message lacks supporter data: %+v", got[0])
	}
	// A leased message is not claimed again while its lease holds...
	if again, _ := claimN(t, s, 10, "t2"), error(nil); len(again) != 0 {
		t.Fatalf("claimed leased messages again: %+v", again)
	}
	// ...nor given back by another sender while its owner's lease holds...
	if l, err := s.RenewLease(ctx, "other", time.Minute); err != nil || l.Requeued != 0 || l.Leader {
		t.Fatalf("another sender took back live claims or the lead: %+v (%v)", l, err)
	}
	// ...and goes back to the queue as soon as that lease has run out
	// (its sender crashed), when any sender renews its own.
	now = now.Add(61 * time.Second)
	if l, err := s.RenewLease(ctx, "other", time.Minute); err != nil || l.Requeued != 2 || !l.Leader {
		t.Fatalf("renewal after the leader's lease ran out: %+v (err %v), want the crashed sender's 2 back and the lead", l, err)
	}
	retaken := claimN(t, s, 10, "t2")
	if len(retaken) != 2 {
		t.Fatalf("retaken %d, want 2", len(retaken))
	}
	err := s.Finish(ctx, []sendlog.Outcome{
		{ID: retaken[0].ID, Status: sendlog.Sent, Attempted: true, ProviderID: "pid-1"},
		{ID: retaken[1].ID, Status: sendlog.Queued, Attempted: true, Error: "HTTP 500", Next: now.Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var status, pid, lastErr string
	var attempts int
	s.r.QueryRow("SELECT status, provider_message_id, attempts FROM messages WHERE id = ?", retaken[0].ID).Scan(&status, &pid, &attempts)
	if status != "sent" || pid != "pid-1" || attempts != 1 {
		t.Fatalf("sent message: %s %s %d", status, pid, attempts)
	}
	s.r.QueryRow("SELECT status, last_error, attempts FROM messages WHERE id = ?", retaken[1].ID).Scan(&status, &lastErr, &attempts)
	if status != "queued" || lastErr != "HTTP 500" || attempts != 1 {
		t.Fatalf("retried message: %s %q %d", status, lastErr, attempts)
	}
	// The retry is not due yet; the t2 messages are.
	due := claimN(t, s, 10)
	if len(due) != 2 || due[0].TargetID != "t2" {
		t.Fatalf("due = %+v, want the two t2 messages", due)
	}
	counts, err := s.StatusCounts(ctx, "c")
	if err != nil || counts["sent"] != 1 || counts["queued"] != 1 || counts["sending"] != 2 {
		t.Fatalf("counts = %v (%v)", counts, err)
	}
}

func TestFinishIgnoresMessagesNoLongerLeased(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	s.CreateLetter(ctx, sup("a@x.org"), msgs("t1"))
	got := claimN(t, s, 1)
	if _, err := s.w.Exec("UPDATE messages SET status = 'cancelled'"); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, []sendlog.Outcome{{ID: got[0].ID, Status: sendlog.Sent, Attempted: true}}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM messages WHERE status = 'cancelled'"); n != 1 {
		t.Fatal("a cancelled message was moved by a late outcome")
	}
}
