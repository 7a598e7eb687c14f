package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkCreateLetter is the sign transaction: a supporter and four
// messages, committed (one op = one letter).
func BenchmarkCreateLetter(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	m := msgs("t1", "t2", "t3", "t4")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		created, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("bench-%d@example.org", i)), m)
		if err != nil || !created {
			b.Fatal(created, err)
		}
	}
}

func fourTargets(limit int) []ClaimTarget {
	var out []ClaimTarget
	for _, id := range []string{"t1", "t2", "t3", "t4"} {
		out = append(out, ClaimTarget{ID: id, Email: id + "@example.com", Name: id, Limit: limit})
	}
	return out
}

// BenchmarkClaimFinish claims a batch of 256 messages and records them sent
// (one op = one batch).
func BenchmarkClaimFinish(b *testing.B) {
	const batch = 256
	s := openBench(b)
	ctx := context.Background()
	m := msgs("t1", "t2", "t3", "t4")
	fill := func(n, from int) {
		for i := range n / len(m) {
			if _, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("claim-%d@example.org", from+i)), m); err != nil {
				b.Fatal(err)
			}
		}
	}
	next := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fill(batch, next)
		next += batch
		b.StartTimer()
		claimed, err := s.Claim(ctx, "bench", batch, fourTargets(batch/4))
		if err != nil || len(claimed) != batch {
			b.Fatal(len(claimed), err)
		}
		out := make([]sendlog.Outcome, len(claimed))
		for i, c := range claimed {
			out[i] = sendlog.Outcome{ID: c.ID, Status: "sent", Attempted: true, ProviderID: "bench-" + c.PublicID}
		}
		if err := s.Finish(ctx, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimBacklog is one claim of a batch of 100 due messages for an
// open target, beside a backlog for targets that may not receive mail now:
// three capped targets (the sender asks nothing for them) and a paused one
// (asked for, skipped). empty has no backlog; backlog has 1,000,000
// messages queued for the others. A claim's cost should not depend on the
// backlog (issue 17).
func BenchmarkClaimBacklog(b *testing.B) {
	for _, backlog := range []int{0, 1_000_000} {
		name := "empty"
		if backlog > 0 {
			name = "backlog=1M"
		}
		b.Run(name, func(b *testing.B) {
			s := openBench(b)
			ctx := context.Background()
			if err := s.SetTargetPaused(ctx, "paused", true); err != nil {
				b.Fatal(err)
			}
			// The backlog is written straight in SQL (one transaction):
			// CreateLetter would take minutes for a million rows.
			_, err := s.w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO supporters (campaign, email, email_key, first_name, last_name, created_at, subject, body)
				SELECT 'c', 'b' || i || '@example.org', 'b' || i || '@example.org', 'A', 'B', 0, 's', 'b' FROM n`, backlog/4+100)
			if err != nil {
				b.Fatal(err)
			}
			_, err = s.w.ExecContext(ctx, `INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at)
				SELECT supporters.id, 'c', t.id, 'queued', 0, 0, 0 FROM supporters, (SELECT 'capped1' AS id UNION ALL SELECT 'capped2'
					UNION ALL SELECT 'capped3' UNION ALL SELECT 'paused') t WHERE supporters.id <= ?`, backlog/4)
			if err != nil {
				b.Fatal(err)
			}
			open := []ClaimTarget{{ID: "open", Email: "o@example.com", Name: "O", Limit: 100}, {ID: "paused", Limit: 100}}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				if _, err := s.w.ExecContext(ctx, `INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at)
					SELECT id, 'c', 'open', 'queued', 0, 0, 0 FROM supporters ORDER BY id DESC LIMIT 100
					ON CONFLICT (supporter_id, target_id) DO UPDATE SET status = 'queued'`); err != nil {
					b.Fatal(err)
				}
				// Counted as the sign path's group commit counts new
				// messages (written straight in SQL here).
				if _, err := s.w.ExecContext(ctx, `DELETE FROM message_counts`); err != nil {
					b.Fatal(err)
				}
				if _, err := s.w.ExecContext(ctx, `INSERT INTO message_counts (campaign, target_id, status, n)
					SELECT campaign, target_id, status, COUNT(*) FROM messages GROUP BY campaign, target_id, status`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				got, err := s.Claim(ctx, "bench", 100, open)
				if err != nil || len(got) != 100 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkCopyToPostgres is `outcry db copy` of a campaign of 100,000
// letters to four targets (100,000 supporters, 400,000 messages), half of
// them sent (one op = the whole copy into a new database). It runs in the
// suite's PostgreSQL run:
//
//	OUTCRY_TEST_PG=… go test -run '^$' -bench CopyToPostgres -benchtime 1x ./internal/store
func BenchmarkCopyToPostgres(b *testing.B) {
	if !onPostgres {
		b.Skip("copies into PostgreSQL: runs in the suite's PostgreSQL run")
	}
	const letters = 100_000
	ctx := context.Background()
	src := openBench(b)
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		 INSERT INTO supporters (campaign, email, email_key, first_name, last_name, created_at, subject, body)
		 SELECT 'c', 'copy' || i || '@example.org', 'copy' || i || '@example.org', 'Ann', 'Lee', i,
		        'Please stop production', 'I am writing to ask you to stop. ' || printf('%.400c', 'x') FROM n`,
		`INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at, sent_at, public_id)
		 SELECT s.id, 'c', t.id, CASE WHEN s.id % 2 = 0 THEN 'sent' ELSE 'queued' END, s.id, s.id, s.id,
		        CASE WHEN s.id % 2 = 0 THEN s.id END, CASE WHEN s.id % 2 = 0 THEN 'p' || s.id || t.id END
		 FROM supporters s, (SELECT 't1' AS id UNION ALL SELECT 't2' UNION ALL SELECT 't3' UNION ALL SELECT 't4') t`,
	} {
		if _, err := src.w.ExecContext(ctx, q, letters); err != nil {
			b.Fatal(err)
		}
	}
	var rows int64
	for b.Loop() {
		b.StopTimer()
		dst, err := Open(ctx, testDB(b))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rows = 0
		if err := src.copyTo(ctx, dst, func(_ string, n int64, done bool) {
			if done {
				rows += n
			}
		}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		dst.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFollowupDue is the follow-up's look for supporters due (issue
// 22) in a campaign of 1,000,000 supporters with 4 delivered letters each,
// every one of them already asked but the last 100, and of 1,000,000 more
// whose letters were delivered too recently: the cost of one tick of the
// follow-up at the end of a viral campaign's day, or fourteen days later.
func BenchmarkFollowupDue(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	const asked, recent = 1_000_000, 1_000_000
	sentAt := int64(1_000_000)
	_, err := s.w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO supporters (campaign, email, email_key, first_name, last_name, created_at, subject, body)
		SELECT 'c', 'f' || i || '@example.org', 'f' || i || '@example.org', 'A', 'B', CASE WHEN i <= ? THEN 0 ELSE ? END, 's', 'b' FROM n`,
		asked+100+recent, asked+100, sentAt*10)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at, sent_at)
			SELECT s.id, 'c', t.id, 'delivered', 0, 0, 0, CASE WHEN s.created_at = 0 THEN ? ELSE ? * 10 END
			FROM supporters s, (SELECT 't1' AS id UNION ALL SELECT 't2' UNION ALL SELECT 't3' UNION ALL SELECT 't4') t`,
	} {
		if _, err := s.w.ExecContext(ctx, q, sentAt, sentAt); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO followups (supporter_id, campaign, queued_at) SELECT id, 'c', 0 FROM supporters WHERE id <= ?`, asked); err != nil {
		b.Fatal(err)
	}
	before := time.UnixMilli(sentAt * 2)
	b.ResetTimer()
	for b.Loop() {
		got, err := s.FollowupDue(ctx, "c", before, 100)
		if err != nil || len(got) != 100 {
			b.Fatal(len(got), err)
		}
	}
}
