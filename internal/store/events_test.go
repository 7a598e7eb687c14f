package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/webhook"
)

// sentMessage stores one letter to target t1 and records it sent.
func sentMessage(t *testing.T, s *Store) delivery.Message {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateLetter(ctx, sup("a@x.org"), msgs("t1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, 1, time.Minute, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v", err)
	}
	if err := s.Finish(ctx, []delivery.Outcome{{ID: got[0].ID, Status: StatusSent, Attempted: true, ProviderID: "PROV1"}}); err != nil {
		t.Fatal(err)
	}
	return got[0]
}

func statusOf(t *testing.T, s *Store, id int64) string {
	t.Helper()
	var st string
	if err := s.r.QueryRow("SELECT status FROM messages WHERE id = ?", id).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestApplyEventsOrderingAndDedupe(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := sentMessage(t, s)
	steps := []struct {
		name  string
		ev    webhook.Event
		want  string
		moved int
		dup   int
	}{
		{"deferred", webhook.Event{Event: "deferred", SGEventID: "e1", OutcryID: m.PublicID}, "deferred", 1, 0},
		{"delivered, matched by provider id", webhook.Event{Event: "delivered", SGEventID: "e2", SGMessageID: "PROV1.filter0001"}, "delivered", 1, 0},
		{"late deferred does not move back", webhook.Event{Event: "deferred", SGEventID: "e3", OutcryID: m.PublicID}, "delivered", 0, 0},
		{"duplicate event ignored", webhook.Event{Event: "delivered", SGEventID: "e2", OutcryID: m.PublicID}, "delivered", 0, 1},
		{"open changes nothing", webhook.Event{Event: "open", SGEventID: "e4", OutcryID: m.PublicID}, "delivered", 0, 0},
		{"bounce after delivered is final", webhook.Event{Event: "bounce", Type: "bounce", SGEventID: "e5", OutcryID: m.PublicID, Reason: "550 no such user"}, "bounced", 1, 0},
	}
	for _, st := range steps {
		res, err := s.ApplyEvents(ctx, []webhook.Event{st.ev})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := statusOf(t, s, m.ID); got != st.want || res.Moved != st.moved || res.Duplicates != st.dup {
			t.Fatalf("%s: status %s (moved %d, dup %d), want %s (moved %d, dup %d)", st.name, got, res.Moved, res.Duplicates, st.want, st.moved, st.dup)
		}
	}
	var events int
	s.r.QueryRow("SELECT COUNT(*) FROM message_events WHERE message_id = ?", m.ID).Scan(&events)
	if events != 5 {
		t.Fatalf("events stored = %d, want 5 (the duplicate once)", events)
	}
	flag, note, err := s.TargetNeedsAttention(ctx, "t1")
	if err != nil || !flag || note != "bounce: 550 no such user" {
		t.Fatalf("hard bounce did not flag the target: %v %q %v", flag, note, err)
	}
	// A flagged target's queued messages stay queued.
	s.CreateLetter(ctx, sup("b@x.org"), msgs("t1"))
	if got, _ := s.Claim(ctx, 10, time.Minute, nil); len(got) != 0 {
		t.Fatalf("claimed %d messages of a target that needs attention", len(got))
	}
}

func TestBlockedBounceDoesNotFlagTarget(t *testing.T) {
	s := openTest(t)
	m := sentMessage(t, s)
	if _, err := s.ApplyEvents(context.Background(), []webhook.Event{{Event: "bounce", Type: "blocked", SGEventID: "b1", OutcryID: m.PublicID}}); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, s, m.ID); got != "bounced" {
		t.Fatalf("status %s, want bounced", got)
	}
	if flag, _, _ := s.TargetNeedsAttention(context.Background(), "t1"); flag {
		t.Fatal("a blocked bounce flagged the target's address")
	}
}

func TestEventBeforeOutcomeKeepsBoth(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	s.CreateLetter(ctx, sup("a@x.org"), msgs("t1"))
	got, _ := s.Claim(ctx, 1, time.Minute, nil)
	// The provider's delivered event arrives before the sender records its outcome.
	if _, err := s.ApplyEvents(ctx, []webhook.Event{{Event: "delivered", SGEventID: "d1", OutcryID: got[0].PublicID}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, []delivery.Outcome{{ID: got[0].ID, Status: StatusSent, Attempted: true, ProviderID: "P9"}}); err != nil {
		t.Fatal(err)
	}
	var status, pid string
	var sentAt *int64
	s.r.QueryRow("SELECT status, provider_message_id, sent_at FROM messages WHERE id = ?", got[0].ID).Scan(&status, &pid, &sentAt)
	if status != "delivered" || pid != "P9" || sentAt == nil {
		t.Fatalf("status %s, provider id %q, sent_at %v", status, pid, sentAt)
	}
}

// Issue 16, item 2: events for no message of ours are counted and dropped,
// so that posting them cannot fill the disk.
func TestUnmatchedEventsAreDropped(t *testing.T) {
	s := openTest(t)
	res, err := s.ApplyEvents(context.Background(), []webhook.Event{{Event: "delivered", SGMessageID: "other.x", Timestamp: 1}, {Event: "delivered", SGEventID: "u2", OutcryID: "nobody"}})
	if err != nil || res.Stored != 0 || res.Unmatched != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	var n int
	s.r.QueryRow("SELECT COUNT(*) FROM message_events").Scan(&n)
	if n != 0 {
		t.Fatalf("%d unmatched events stored", n)
	}
}

// Issue 16, item 12: an event for a message still queued is recorded but
// neither marks it delivered nor flags its target, so it is still sent; an
// unbounded timestamp does not overflow.
func TestEventForUnsentMessageDoesNotStopIt(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.CreateLetter(ctx, sup("a@x.org"), msgs("t1")); err != nil {
		t.Fatal(err)
	}
	var id int64
	var pub string
	s.r.QueryRow("SELECT id, public_id FROM messages").Scan(&id, &pub)
	res, err := s.ApplyEvents(ctx, []webhook.Event{
		{Event: "delivered", SGEventID: "q1", OutcryID: pub, Timestamp: 920_000_000_000_000_000},
		{Event: "bounce", Type: "bounce", SGEventID: "q2", OutcryID: pub, Timestamp: 1_700_000_000},
	})
	if err != nil || res.Stored != 2 || res.Moved != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if got := statusOf(t, s, id); got != "queued" {
		t.Fatalf("status %s, want queued", got)
	}
	if flag, _, _ := s.TargetNeedsAttention(ctx, "t1"); flag {
		t.Fatal("an event for an unsent message flagged its target")
	}
	got, err := s.Claim(ctx, 1, time.Minute, nil)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("the message is no longer sent: %v %v", got, err)
	}
	var minAt int64
	s.r.QueryRow("SELECT MIN(occurred_at) FROM message_events").Scan(&minAt)
	if minAt <= 0 {
		t.Fatalf("occurred_at = %d", minAt)
	}
}

func TestEventMatchUsesIndexes(t *testing.T) {
	s := openTest(t)
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+matchEventSQL, "abc", "def")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(detail, "SCAN messages") {
			t.Fatalf("matching an event scans the messages table: %s", detail)
		}
	}
}
