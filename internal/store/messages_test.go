package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSendLogFiltersAndKeysetPagination(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.CreateLetter(ctx, sup(fmt.Sprintf("p%d@example.com", i)), msgs("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	// Page through 10 messages, 3 at a time, while new letters arrive.
	var seen []int64
	f := MessageFilter{Limit: 3}
	for page := 0; ; page++ {
		rows, err := s.Messages(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			seen = append(seen, r.ID)
		}
		f.Before = rows[len(rows)-1].ID
		if _, err := s.CreateLetter(ctx, sup(fmt.Sprintf("new%d@example.com", page)), msgs("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 10 {
		t.Fatalf("saw %d messages, want the 10 that existed: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first / repeated: %v", seen)
		}
	}

	s.w.Exec(`UPDATE messages SET status = 'failed' WHERE id IN (1, 4)`)
	cases := []struct {
		name string
		f    MessageFilter
		want int
	}{
		{"status", MessageFilter{Status: "failed"}, 2},
		{"target", MessageFilter{Target: "a"}, 5 + 4},
		{"status+target", MessageFilter{Status: "failed", Target: "b"}, 1},
		{"email", MessageFilter{Campaign: "c", Email: "p2@example.com"}, 2},
		{"email other campaign", MessageFilter{Campaign: "x", Email: "p2@example.com"}, 0},
		{"date range empty", MessageFilter{From: time.Now().Add(time.Hour)}, 0},
		{"date range all", MessageFilter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, 18},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := s.Messages(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != c.want {
				t.Fatalf("got %d rows, want %d", len(rows), c.want)
			}
		})
	}
}

// TestSendLogQueriesUseIndexes checks the plan of every filter: no full scan
// of messages and no temporary sort, so a page stays fast on a million rows.
func TestSendLogQueriesUseIndexes(t *testing.T) {
	sqliteOnly(t) // SQLite's query plans and pragmas
	s := openTest(t)
	now := time.Now()
	for _, f := range []MessageFilter{
		{Limit: 50},
		{Limit: 50, Before: 1000},
		{Limit: 50, Status: "failed", Before: 1000},
		{Limit: 50, Target: "a", Before: 1000},
		{Limit: 50, Status: "sent", Target: "a", Before: 1000},
		{Limit: 50, Campaign: "c", Email: "x@example.com"},
		{Limit: 50, From: now.Add(-time.Hour), To: now},
	} {
		q, args := messagesQuery(s.d, f)
		rows, err := s.r.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		// "SCAN m" alone is the unfiltered first page: a walk down the
		// rowid that stops at the limit.
		if strings.Contains(joined, "SCAN s") || strings.Contains(joined, "SCAN m") && (f.Before > 0 || f.Status != "" || f.Target != "" || !f.From.IsZero()) {
			t.Errorf("%+v: full scan: %s", f, joined)
		}
		// The email filter sorts one supporter's messages (one per target).
		if f.Email == "" && strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%+v: sorts in a temporary b-tree: %s", f, joined)
		}
		t.Logf("%+v: %s", f, joined)
	}
}

func TestRetryCancelAndSettings(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	s.CreateLetter(ctx, sup("a@example.com"), msgs("a", "b", "c"))
	s.w.Exec(`UPDATE messages SET status = 'failed', attempts = 8, next_attempt_at = 0 WHERE id IN (1, 2)`)
	if ok, err := s.RetryMessage(ctx, 1); err != nil || !ok {
		t.Fatalf("retry = %v, %v", ok, err)
	}
	if ok, _ := s.RetryMessage(ctx, 3); ok {
		t.Fatal("retried a queued message")
	}
	d, err := s.Message(ctx, 1)
	if err != nil || d.Status != "queued" || d.Attempts != 8 || d.NextAttemptAt.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("after retry: %+v, %v", d, err)
	}
	if n, err := s.RetryFailed(ctx, "b"); err != nil || n != 1 {
		t.Fatalf("retry failed for b = %d, %v", n, err)
	}
	if ok, err := s.CancelMessage(ctx, 3); err != nil || !ok {
		t.Fatalf("cancel = %v, %v", ok, err)
	}
	if ok, _ := s.CancelMessage(ctx, 3); ok {
		t.Fatal("cancelled twice")
	}
	if _, err := s.Message(ctx, 99); err != ErrNotFound {
		t.Fatalf("missing message: %v", err)
	}

	if _, _, ok, _ := s.LetterDefaults(ctx, "c"); ok {
		t.Fatal("defaults set before editing")
	}
	s.SetLetterDefaults(ctx, "c", "Subj", "Body")
	if subj, body, ok, err := s.LetterDefaults(ctx, "c"); !ok || subj != "Subj" || body != "Body" || err != nil {
		t.Fatalf("defaults = %q %q %v %v", subj, body, ok, err)
	}
	s.SetCampaignPause(ctx, true, "why")
	if p, why, _ := s.CampaignPause(ctx); !p || why != "why" {
		t.Fatal("pause not stored")
	}
	s.SetCampaignPause(ctx, false, "")
	if p, _, _ := s.CampaignPause(ctx); p {
		t.Fatal("pause not cleared")
	}
	s.SetTargetPaused(ctx, "a", true)
	s.w.Exec(`UPDATE target_state SET needs_attention = 1 WHERE target_id = 'a'`)
	s.ClearNeedsAttention(ctx, "a")
	st, _ := s.TargetStates(ctx)
	if !st["a"].Paused || st["a"].NeedsAttention {
		t.Fatalf("target state = %+v", st["a"])
	}
	counts, _ := s.TargetStatusCounts(ctx)
	if counts["c"]["cancelled"] != 1 || counts["a"]["queued"] != 1 {
		t.Fatalf("counts = %v", counts)
	}
	hours, _ := s.LettersPerHour(ctx, "c")
	if len(hours) != 1 || hours[0].Count != 1 {
		t.Fatalf("hours = %v", hours)
	}
	var n int
	s.EachSupporter(ctx, "c", func(SupporterRow) error { n++; return nil })
	if n != 1 {
		t.Fatalf("supporters = %d", n)
	}
}

// BenchmarkSendLogPage measures one page of each send log filter on a
// million messages (go test -run '^$' -bench SendLogPage ./internal/store).
func BenchmarkSendLogPage(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const supporters, perSupporter = 250_000, 4 // 1,000,000 messages
	t0 := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
	if _, err := s.w.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO supporters (id, campaign, email, first_name, last_name, created_at)
		SELECT i, 'c', 's' || i || '@example.org', 'A', 'B', ? + i * 10 FROM n`, supporters, t0); err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO messages (id, public_id, supporter_id, campaign, target_id, target_email, target_name,
			status, next_attempt_at, queued_at, updated_at)
		SELECT i, 'p' || i, (i - 1) / ? + 1, 'c', 't' || (i % ?), 't@example.com', 'T',
			CASE WHEN i % 100 = 0 THEN 'failed' WHEN i % 7 = 0 THEN 'queued' ELSE 'sent' END,
			0, ? + ((i - 1) / ?) * 10, 0 FROM n`, supporters*perSupporter, perSupporter, perSupporter, t0, perSupporter); err != nil {
		b.Fatal(err)
	}
	mid := time.UnixMilli(t0 + supporters*5)
	for _, c := range []struct {
		name string
		f    MessageFilter
	}{
		{"newest", MessageFilter{}},
		{"deep-page", MessageFilter{Before: 10_000}},
		{"status-failed", MessageFilter{Status: "failed", Before: 500_000}},
		{"target", MessageFilter{Target: "t1", Before: 500_000}},
		{"status+target", MessageFilter{Status: "queued", Target: "t2"}},
		{"email", MessageFilter{Campaign: "c", Email: "s123456@example.org"}},
		{"match-one", MessageFilter{Campaign: "c", Match: "s234567@"}},
		{"match-many", MessageFilter{Campaign: "c", Match: "s24"}},
		{"match-many-deep", MessageFilter{Campaign: "c", Match: "s1", Before: 100_000}},
		{"match-none", MessageFilter{Campaign: "c", Match: "nobody"}},
		{"date-range", MessageFilter{From: mid.Add(-time.Hour), To: mid}},
		{"date-range+status", MessageFilter{Status: "failed", From: mid.Add(-24 * time.Hour), To: mid}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.f.Limit = 50
			for b.Loop() {
				var rows []MessageRow
				var err error
				if c.f.Match != "" { // as the console's page asks: a bounded search
					rows, _, err = s.MessagesMatching(context.Background(), c.f, 25_000)
				} else {
					rows, err = s.Messages(context.Background(), c.f)
				}
				if err != nil || (len(rows) == 0) != (c.name == "match-none") {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
			}
		})
	}
	// The dashboard's counts, read from message_counts (migration 005)...
	b.Run("target-status-counts", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.TargetStatusCounts(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("status-counts", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.StatusCounts(context.Background(), "c"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// ... and, for comparison, the scans of messages they replaced.
	for name, q := range map[string]string{
		"target-status-counts-scan": `SELECT target_id, status, COUNT(*) FROM messages GROUP BY target_id, status`,
		"status-counts-scan":        `SELECT status, COUNT(*) FROM messages WHERE campaign = 'c' GROUP BY status`,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.r.Query(q)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				if err := rows.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A part of a name or address finds the supporters' messages, newest
// first, case-insensitively, with % and _ literal, never erased ones; the
// bounded search pages through everything with no duplicate.
func TestSendLogMatch(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	people := []NewSupporter{
		{Campaign: "c", Email: "grace.hopper@navy.example", FirstName: "Grace", LastName: "Hopper"},
		{Campaign: "c", Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"},
		{Campaign: "c", Email: "g100%_x@example.org", FirstName: "Percent", LastName: "Sign"},
		{Campaign: "c", Email: "alan@example.org", FirstName: "Alan", LastName: "Turing-Grace"},
		{Campaign: "other", Email: "grace@other.example", FirstName: "Grace", LastName: "Elsewhere"},
	}
	for _, p := range people {
		if _, err := s.CreateLetter(ctx, p, msgs("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	emails := func(rows []MessageRow) string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%d:%s", r.ID, r.SupporterEmail))
		}
		return strings.Join(out, " ")
	}
	for part, want := range map[string]string{
		"grace":        "8:alan@example.org 7:alan@example.org 2:grace.hopper@navy.example 1:grace.hopper@navy.example",
		"GRACE HOP":    "2:grace.hopper@navy.example 1:grace.hopper@navy.example",
		"@navy":        "2:grace.hopper@navy.example 1:grace.hopper@navy.example",
		"love":         "4:ada@example.org 3:ada@example.org",
		"100%_":        "6:g100%_x@example.org 5:g100%_x@example.org",
		"%":            "6:g100%_x@example.org 5:g100%_x@example.org",
		"a_a":          "",
		"' OR 1=1 --":  "",
		"elsewhere":    "", // another campaign
		"turing-grace": "8:alan@example.org 7:alan@example.org",
	} {
		rows, err := s.Messages(ctx, MessageFilter{Campaign: "c", Match: part, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if got := emails(rows); got != want {
			t.Errorf("match %q: %s, want %s", part, got, want)
		}
		bounded, _, err := s.MessagesMatching(ctx, MessageFilter{Campaign: "c", Match: part, Limit: 50}, 100)
		if err != nil || emails(bounded) != want {
			t.Errorf("bounded match %q: %s, %v", part, emails(bounded), err)
		}
	}
	// Erased supporters are not found by what is left of them.
	if _, err := s.w.Exec(`UPDATE supporters SET erased_at = 1 WHERE email = 'ada@example.org'`); err != nil {
		t.Fatal(err)
	}
	if rows, _ := s.Messages(ctx, MessageFilter{Campaign: "c", Match: "ada", Limit: 50}); len(rows) != 0 {
		t.Errorf("erased supporter found: %s", emails(rows))
	}

	// 40 more supporters; search "p" (every sup() is Ann Lee at pN@…) with
	// a window of 7 supporters and pages of 5: all 80 messages come, newest
	// first, each once, following the page cursor and the older cursor.
	for i := range 40 {
		if _, err := s.CreateLetter(ctx, sup(fmt.Sprintf("p%d@example.com", i)), msgs("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	f := MessageFilter{Campaign: "c", Match: "ann lee", Limit: 5}
	var seen []int64
	pages, searches := 0, 0
	for {
		rows, older, err := s.MessagesMatching(ctx, f, 7)
		if err != nil {
			t.Fatal(err)
		}
		searches++
		for _, r := range rows {
			if len(seen) > 0 && r.ID >= seen[len(seen)-1] {
				t.Fatalf("not newest first: %d after %v", r.ID, seen)
			}
			seen = append(seen, r.ID)
		}
		switch {
		case len(rows) == f.Limit:
			f.Before = rows[len(rows)-1].ID
			pages++
		case older > 0:
			f.Before = older
		default:
			if len(seen) != 80 {
				t.Fatalf("found %d messages of 80: %v", len(seen), seen)
			}
			t.Logf("%d pages, %d searches", pages, searches)
			return
		}
		if searches > 100 {
			t.Fatal("no end")
		}
	}
}
