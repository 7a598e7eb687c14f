package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// sentMessage stores one letter to target t1 and records it sent.
func sentMessage(t *testing.T, s *Store) sendlog.Message {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateLetter(ctx, sup("a@x.org"), msgs("t1")); err != nil {
		t.Fatal(err)
	}
	got, err := claimN(t, s, 1), error(nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v", err)
	}
	if err := s.Finish(ctx, []sendlog.Outcome{{ID: got[0].ID, Status: sendlog.Sent, Attempted: true, ProviderID: "PROV1"}}); err != nil {
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
		ev    sendlog.Event
		want  string
		moved int
		dup   int
	}{
		{"deferred", sendlog.Event{Event: "deferred", SGEventID: "e1", OutcryID: m.PublicID}, "deferred", 1, 0},
		{"delivered, matched by provider id", sendlog.Event{Event: "delivered", SGEventID: "e2", SGMessageID: "PROV1.filter0001"}, "delivered", 1, 0},
		{"late deferred does not move back", sendlog.Event{Event: "deferred", SGEventID: "e3", OutcryID: m.PublicID}, "delivered", 0, 0},
		{"duplicate event ignored", sendlog.Event{Event: "delivered", SGEventID: "e2", OutcryID: m.PublicID}, "delivered", 0, 1},
		{"open changes nothing", sendlog.Event{Event: "open", SGEventID: "e4", OutcryID: m.PublicID}, "delivered", 0, 0},
		{"bounce after delivered is final", sendlog.Event{Event: "bounce", Type: "bounce", SGEventID: "e5", OutcryID: m.PublicID, Reason: "550 no such user"}, "bounced", 1, 0},
	}
	for _, st := range steps {
		res, err := s.ApplyEvents(ctx, []sendlog.Event{st.ev})
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
	if got := claimN(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed %d messages of a target that needs attention", len(got))
	}
}

// A drop because SendGrid suppresses the target's address (here SendGrid's
// own signed sample event, matched by our opaque id) flags the target with
// the reason, which holds its queue (TestApplyEventsOrderingAndDedupe):
// every further message would be dropped too. A drop for other reasons
// flags nothing.
func TestSuppressedDropFlagsTarget(t *testing.T) {
	tests := []struct {
		reason string
		flag   bool
	}{
		{"Bounced Address", true},
		{"Spam Reporting Address", true},
		{"Unsubscribed Address", true},
		{"Invalid", true},
		{"Spam Content (if spam checker app enabled)", false},
		{"Invalid SMTPAPI header", false},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			m := sentMessage(t, s)
			ev := sendlog.Event{Email: "hello@world.com", Event: "dropped", Reason: tt.reason, SGEventID: "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
				SGMessageID: "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0", Timestamp: 1600112492, OutcryID: m.PublicID}
			if _, err := s.ApplyEvents(ctx, []sendlog.Event{ev}); err != nil {
				t.Fatal(err)
			}
			if got := statusOf(t, s, m.ID); got != "dropped" {
				t.Fatalf("status %s, want dropped", got)
			}
			flag, note, err := s.TargetNeedsAttention(ctx, "t1")
			if err != nil {
				t.Fatal(err)
			}
			if flag != tt.flag {
				t.Fatalf("needs attention = %v (%q), want %v", flag, note, tt.flag)
			}
			if tt.flag && note != "dropped: "+tt.reason {
				t.Fatalf("note %q, want the reason", note)
			}
		})
	}
}

func TestBlockedBounceDoesNotFlagTarget(t *testing.T) {
	s := openTest(t)
	m := sentMessage(t, s)
	if _, err := s.ApplyEvents(context.Background(), []sendlog.Event{{Event: "bounce", Type: "blocked", SGEventID: "b1", OutcryID: m.PublicID}}); err != nil {
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
	got := claimN(t, s, 1)
	// The provider's delivered event arrives before the sender records its outcome.
	if _, err := s.ApplyEvents(ctx, []sendlog.Event{{Event: "delivered", SGEventID: "d1", OutcryID: got[0].PublicID}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, []sendlog.Outcome{{ID: got[0].ID, Status: sendlog.Sent, Attempted: true, ProviderID: "P9"}}); err != nil {
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
	res, err := s.ApplyEvents(context.Background(), []sendlog.Event{{Event: "delivered", SGMessageID: "other.x", Timestamp: 1}, {Event: "delivered", SGEventID: "u2", OutcryID: "nobody"}})
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
	// A message gets its opaque id when first claimed: one that failed for
	// a moment and waits in the queue again has one an event can name.
	first := claimN(t, s, 1)
	if err := s.Finish(ctx, []sendlog.Outcome{{ID: first[0].ID, Status: sendlog.Queued, Attempted: true, Error: "HTTP 500"}}); err != nil {
		t.Fatal(err)
	}
	var id int64
	var pub string
	s.r.QueryRow("SELECT id, public_id FROM messages").Scan(&id, &pub)
	res, err := s.ApplyEvents(ctx, []sendlog.Event{
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
	got, err := claimN(t, s, 1), error(nil)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("the message is no longer sent: %v %v", got, err)
	}
	var minAt int64
	s.r.QueryRow("SELECT MIN(occurred_at) FROM message_events").Scan(&minAt)
	if minAt <= 0 {
		t.Fatalf("occurred_at = %d", minAt)
	}
}

// Events without our opaque id are matched by the stored X-Message-Id as a
// prefix of sg_message_id, also in SendGrid's older form where that id holds
// dots itself (issue 13: cutting at the first dot missed them). The ids are
// SendGrid's documented samples.
func TestEventMatchesProviderIDPrefix(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	provider := map[string]string{"old@x.org": "14c5d75ce93.dfd.64b469", "new@x.org": "LRzXl_NHStOGhQ4kofSm_A", "decoy@x.org": "14c5d75ce93"}
	ids := map[string]int64{}
	for _, email := range []string{"old@x.org", "new@x.org", "decoy@x.org"} {
		if _, err := s.CreateLetter(ctx, sup(email), msgs("t1")); err != nil {
			t.Fatal(err)
		}
		var id int64
		// Recorded as sent with that X-Message-Id (directly: the claim is not under test).
		err := s.w.QueryRowContext(ctx, `UPDATE messages SET status = 'sent', provider_message_id = ?
			WHERE id = (SELECT MAX(id) FROM messages) RETURNING id`, provider[email]).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		ids[email] = id
	}
	res, err := s.ApplyEvents(ctx, []sendlog.Event{
		{Event: "delivered", SGEventID: "hqFbp3HH9WxIM0R2-x2M1Q==", SGMessageID: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", Timestamp: 1519267261},
		{Event: "deferred", SGEventID: "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA", SGMessageID: "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0", Timestamp: 1600112492},
		{Event: "delivered", SGEventID: "unknown", SGMessageID: "14c5d75ce94.dfd.64b469.filter0001.16648.5515E0B88.0", Timestamp: 1519267261},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != 2 || res.Unmatched != 1 {
		t.Fatalf("%+v: want 2 messages moved and the event for an id of no message kept unmatched", res)
	}
	for email, want := range map[string]string{"old@x.org": "delivered", "new@x.org": "deferred", "decoy@x.org": "sent"} {
		if got := statusOf(t, s, ids[email]); got != want {
			t.Errorf("message sent as %q: status %s, want %s", provider[email], got, want)
		}
	}
}

func TestEventMatchUsesIndexes(t *testing.T) {
	sqliteOnly(t) // SQLite's query plans and pragmas
	s := openTest(t)
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+matchEventSQL, matchEventArgs(sendlog.Event{OutcryID: "abc", SGMessageID: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"})...)
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

// Issue 27 item 7: a digest whose provider id is a prefix of a single
// letter's must not take that letter's events: the longest known id wins,
// whether a digest's or a letter's.
func TestEventMatchesLongestIDOfDigestOrLetter(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, email := range []string{"a@x.org", "b@x.org", "c@x.org"} {
		if _, err := s.CreateLetter(ctx, sup(email), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	// Letters 1 and 2 in a digest sent as "14c5d75ce93"; letter 3 alone as "14c5d75ce93.dfd".
	var digest int64
	if err := s.w.QueryRowContext(ctx, `INSERT INTO digests (campaign, target_id, public_id, status, letters, provider_message_id,
			next_attempt_at, created_at, updated_at, sent_at) VALUES ('c', 't1', 'dabc', 'sent', 2, '14c5d75ce93', 1, 1, 1, 1) RETURNING id`).Scan(&digest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'sent', digest_id = ?, provider_message_id = '14c5d75ce93' WHERE id IN (1, 2)`, digest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'sent', provider_message_id = '14c5d75ce93.dfd' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyEvents(ctx, []sendlog.Event{
		{Event: "delivered", SGEventID: "e1", SGMessageID: "14c5d75ce93.dfd.filter0001.16648.5515E0B88.0", Timestamp: 1519267261},
	}); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, s, 3); got != "delivered" {
		t.Errorf("the single letter's own event: status %s, want delivered", got)
	}
	for _, id := range []int64{1, 2} {
		if got := statusOf(t, s, id); got != "sent" {
			t.Errorf("letter %d of the digest took another message's event: %s", id, got)
		}
	}
	// The digest's own event still reaches its letters.
	if _, err := s.ApplyEvents(ctx, []sendlog.Event{
		{Event: "delivered", SGEventID: "e2", SGMessageID: "14c5d75ce93.filter0002.1.2.0", Timestamp: 1519267261},
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 2} {
		if got := statusOf(t, s, id); got != "delivered" {
			t.Errorf("letter %d of the digest: %s after the digest's event", id, got)
		}
	}
}

// Issue 27 item 11: an event time before its message was sent (timestamp 1:
// 1970) is recorded as the send time, for a single letter and a digest.
func TestEventTimeNotBeforeTheSend(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, email := range []string{"a@x.org", "b@x.org"} {
		if _, err := s.CreateLetter(ctx, sup(email), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	sentAt := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC).UnixMilli()
	if _, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'sent', provider_message_id = 'ONE', sent_at = ? WHERE id = 1`, sentAt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO digests (campaign, target_id, public_id, status, letters, provider_message_id,
			next_attempt_at, created_at, updated_at, sent_at) VALUES ('c', 't1', 'dabc', 'sent', 1, 'TWO', 1, 1, 1, ?)`, sentAt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE messages SET status = 'sent', digest_id = 1, provider_message_id = 'TWO', sent_at = ? WHERE id = 2`, sentAt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyEvents(ctx, []sendlog.Event{
		{Event: "delivered", SGEventID: "e1", SGMessageID: "ONE.filter1", Timestamp: 1},
		{Event: "delivered", SGEventID: "e2", SGMessageID: "TWO.filter1", Timestamp: 1},
		{Event: "open", SGEventID: "e3", SGMessageID: "ONE.filter1", Timestamp: sentAt/1000 + 60},
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT event_id, occurred_at FROM message_events ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]int64{"e1": sentAt, "e2": sentAt, "e3": sentAt + 60000}
	n := 0
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		n++
		if at != want[id] {
			t.Errorf("event %s at %s, want %s", id, time.UnixMilli(at).UTC(), time.UnixMilli(want[id]).UTC())
		}
	}
	if n != 3 {
		t.Fatalf("%d events recorded, want 3", n)
	}
}
