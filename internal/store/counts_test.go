package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// groupByCounts is the truth the triggers must match: a scan of messages.
func groupByCounts(t *testing.T, s *Store) (perCampaign map[string]map[string]int, perTarget map[string]map[string]int) {
	t.Helper()
	rows, err := s.r.Query(`SELECT campaign, target_id, status, COUNT(*) FROM messages GROUP BY campaign, target_id, status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perCampaign, perTarget = map[string]map[string]int{}, map[string]map[string]int{}
	for rows.Next() {
		var c, tg, st string
		var n int
		if err := rows.Scan(&c, &tg, &st, &n); err != nil {
			t.Fatal(err)
		}
		if perCampaign[c] == nil {
			perCampaign[c] = map[string]int{}
		}
		if perTarget[tg] == nil {
			perTarget[tg] = map[string]int{}
		}
		perCampaign[c][st] += n
		perTarget[tg][st] += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return perCampaign, perTarget
}

// checkCounts compares StatusCounts and TargetStatusCounts with a GROUP BY
// over messages.
func checkCounts(t *testing.T, s *Store, step string) {
	t.Helper()
	ctx := context.Background()
	wantC, wantT := groupByCounts(t, s)
	for _, campaign := range []string{"c", "d"} {
		got, err := s.StatusCounts(ctx, campaign)
		if err != nil {
			t.Fatal(err)
		}
		want := wantC[campaign]
		if want == nil {
			want = map[string]int{}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%s: StatusCounts(%s) = %v, GROUP BY says %v", step, campaign, got, want)
		}
	}
	got, err := s.TargetStatusCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, wantT, func(a, b map[string]int) bool { return maps.Equal(a, b) }) {
		t.Fatalf("%s: TargetStatusCounts = %v, GROUP BY says %v", step, got, wantT)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM message_counts WHERE n < 0`); n != 0 {
		t.Fatalf("%s: %d negative counts", step, n)
	}
}

// TestMessageCountsFollowEveryChange runs every store operation that adds,
// moves or removes messages and checks after each that message_counts
// equals a GROUP BY over messages.
func TestMessageCountsFollowEveryChange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	seen := map[string]bool{}
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkCounts(t, s, name)
		c, _ := s.StatusCounts(ctx, "c")
		for st := range c {
			seen[st] = true
		}
	}
	checkCounts(t, s, "empty")

	// Inserts: confirmed, unconfirmed, a repeat (writes nothing), another campaign.
	for i := range 6 {
		_, err := s.CreateLetter(ctx, sup(fmt.Sprintf("s%d@example.org", i)), msgs("t1", "t2", "t3"))
		step("create", err)
	}
	_, err := s.CreateLetter(ctx, sup("s0@example.org"), msgs("t1", "t2", "t3"))
	step("repeat", err)
	_, err = s.CreateLetter(ctx, unconfirmed("u1@example.org"), msgs("t1", "t2"))
	step("create unconfirmed", err)
	_, err = s.CreateLetter(ctx, unconfirmed("u2@example.org"), msgs("t1"))
	step("create unconfirmed 2", err)
	other := sup("s0@example.org")
	other.Campaign = "d"
	_, err = s.CreateLetter(ctx, other, msgs("t1", "t4"))
	step("create other campaign", err)

	// Claims and finishes: sent, failed, retry later.
	claimed, err := claimN(t, s, 8, "t4"), error(nil)
	step("claim", err)
	if len(claimed) != 8 {
		t.Fatalf("claimed %d, want 8", len(claimed))
	}
	// In the order written (a claim takes turns across campaigns).
	slices.SortFunc(claimed, func(a, b sendlog.Message) int { return int(a.ID - b.ID) })
	var outcomes []sendlog.Outcome
	for i, m := range claimed {
		switch i % 4 {
		case 0, 1:
			outcomes = append(outcomes, sendlog.Outcome{ID: m.ID, Status: sendlog.Sent, Attempted: true, ProviderID: fmt.Sprintf("P%d", i)})
		case 2:
			outcomes = append(outcomes, sendlog.Outcome{ID: m.ID, Status: sendlog.Failed, Attempted: true, Error: "550"})
		case 3:
			outcomes = append(outcomes, sendlog.Outcome{ID: m.ID, Status: sendlog.Queued, Attempted: true, Next: now.Add(time.Hour)})
		}
	}
	step("finish", s.Finish(ctx, outcomes))
	// A finish for a message no longer leased changes nothing.
	step("finish again", s.Finish(ctx, outcomes[:1]))

	// A lease that runs out: 'sending' claimed again (status unchanged).
	_, err = claimN(t, s, 2), error(nil)
	step("claim 2", err)
	now = now.Add(2 * time.Minute)
	_, err = claimN(t, s, 2), error(nil)
	step("reclaim expired lease", err)

	// Delivery events: move forward, duplicates, late ones, unmatched.
	evs := []sendlog.Event{
		{Event: "delivered", SGEventID: "e1", OutcryID: claimed[0].PublicID},
		{Event: "deferred", SGEventID: "e2", OutcryID: claimed[1].PublicID},
		{Event: "delivered", SGEventID: "e1", OutcryID: claimed[0].PublicID},
		{Event: "deferred", SGEventID: "e3", OutcryID: claimed[0].PublicID},
		{Event: "bounce", Type: "bounce", SGEventID: "e4", OutcryID: claimed[2].PublicID, Reason: "550"},
		{Event: "spamreport", SGEventID: "e5", OutcryID: claimed[4].PublicID},
		{Event: "delivered", SGEventID: "e6", OutcryID: "nobody"},
	}
	_, err = s.ApplyEvents(ctx, evs)
	step("events", err)

	// Retries and cancels, one and many.
	_, err = s.RetryMessage(ctx, claimed[6].ID)
	step("retry one", err)
	_, err = s.RetryFailed(ctx, "t3")
	step("retry failed for target", err)
	var queuedID int64
	s.r.QueryRow(`SELECT id FROM messages WHERE status = 'queued' ORDER BY id LIMIT 1`).Scan(&queuedID)
	ok, err := s.CancelMessage(ctx, queuedID)
	step("cancel", err)
	if !ok {
		t.Fatal("nothing cancelled")
	}

	// Confirmation of one unconfirmed supporter; the other is purged.
	var u1 int64
	s.r.QueryRow(`SELECT id FROM supporters WHERE email = 'u1@example.org'`).Scan(&u1)
	_, err = s.ConfirmSupporter(ctx, "c", u1)
	step("confirm", err)
	now = now.Add(48 * time.Hour)
	n, err := s.PurgeUnconfirmed(ctx, now.Add(-24*time.Hour))
	step("purge unconfirmed", err)
	if n != 1 {
		t.Fatalf("purged %d unconfirmed, want 1", n)
	}

	// Erase: the supporter in both campaigns; unsent messages are cancelled.
	_, err = s.EraseSupporter(ctx, "s0@example.org", "")
	step("erase", err)

	// Retention purge empties text; the counts stay.
	now = now.Add(365 * 24 * time.Hour)
	_, err = s.PurgeLetterText(ctx, now.Add(-90*24*time.Hour))
	step("retention purge", err)

	// Every status the test meant to pass through was reached.
	for _, st := range []string{"unconfirmed", "queued", "sending", "sent", "failed", "delivered", "deferred", "bounced", "spamreport", "cancelled"} {
		if !seen[st] {
			t.Errorf("no message was ever %s (the test lost coverage): saw %v", st, seen)
		}
	}
}
