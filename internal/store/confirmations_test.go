package store

import (
	"context"
	"testing"
	"time"
)

func unconfirmed(email string) NewSupporter {
	s := sup(email)
	s.Status = SupporterUnconfirmed
	return s
}

func TestConfirmSupporterQueuesHeldMessages(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.CreateLetter(ctx, unconfirmed("a@example.org"), msgs("t1", "t2")); err != nil {
		t.Fatal(err)
	}
	if got := claimN(t, s, 10); len(got) != 0 {
		t.Fatalf("the sender claimed %d unconfirmed messages", len(got))
	}
	var id int64
	s.r.QueryRow(`SELECT id FROM supporters`).Scan(&id)
	written := time.Now().Add(time.Hour)
	s.SetClock(func() time.Time { return written.Add(time.Hour) }) // confirmed later
	tests := []struct {
		campaign string
		id       int64
		want     ConfirmResult
	}{
		{"other", id, ConfirmMissing}, // a link of another campaign
		{"c", id + 1, ConfirmMissing},
		{"c", id, ConfirmDone},
		{"c", id, ConfirmAlready},
	}
	for _, tt := range tests {
		got, err := s.ConfirmSupporter(ctx, tt.campaign, tt.id)
		if err != nil || got != tt.want {
			t.Fatalf("confirm(%s, %d) = %v, %v; want %v", tt.campaign, tt.id, got, err, tt.want)
		}
	}
	counts, _ := s.StatusCounts(ctx, "c")
	if counts["queued"] != 2 || counts["unconfirmed"] != 0 {
		t.Fatalf("after confirmation: %v", counts)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE status = 'confirmed' AND confirmed_at IS NOT NULL`); n != 1 {
		t.Fatal("supporter not marked confirmed")
	}
	// queued_at stays the time of writing (the send log's date filter
	// relies on it growing with the id); the message is due from confirmation.
	if n := countRows(t, s, `SELECT COUNT(*) FROM messages WHERE queued_at < ? AND next_attempt_at >= ?`,
		written.UnixMilli(), written.Add(time.Hour).UnixMilli()); n != 2 {
		t.Fatalf("%d messages kept their queued_at and became due at confirmation, want 2", n)
	}
}

func TestClaimConfirmationSendThrottles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.CreateLetter(ctx, unconfirmed("a@example.org"), msgs("t1"))
	s.CreateLetter(ctx, sup("confirmed@example.org"), msgs("t1"))
	claim := func(email string) bool {
		_, ok, err := s.ClaimConfirmationSend(ctx, "c", email, now.Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		advance time.Duration
		email   string
		want    bool
	}{
		{0, "a@example.org", true},
		{0, "a@example.org", false},
		{9 * time.Minute, "a@example.org", false},
		{time.Minute, "a@example.org", true}, // ten minutes after the first
		{0, "confirmed@example.org", false},
		{0, "nobody@example.org", false},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := claim(st.email); got != st.want {
			t.Fatalf("step %d: claim %s = %v, want %v", i, st.email, got, st.want)
		}
	}
	var id int64
	s.r.QueryRow(`SELECT id FROM supporters WHERE email = 'a@example.org'`).Scan(&id)
	if err := s.ReleaseConfirmationSend(ctx, id); err != nil {
		t.Fatal(err)
	}
	if !claim("a@example.org") {
		t.Fatal("a released mark still throttles")
	}
}

func TestPurgeUnconfirmed(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.CreateLetter(ctx, unconfirmed("old@example.org"), msgs("t1", "t2"))
	s.CreateLetter(ctx, sup("confirmed-old@example.org"), msgs("t1", "t2"))
	now = now.Add(47 * time.Hour)
	s.CreateLetter(ctx, unconfirmed("new@example.org"), msgs("t1", "t2"))
	now = now.Add(2 * time.Hour)
	n, err := s.PurgeUnconfirmed(ctx, now.Add(-48*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	if c, _ := s.SupporterCount(ctx, "c"); c != 2 {
		t.Fatalf("count = %d, want 2", c)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM supporters WHERE email = 'old@example.org'`); n != 0 {
		t.Fatal("the expired supporter is still there")
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM messages`); n != 4 {
		t.Fatalf("messages = %d, want 4 (the confirmed and the recent unconfirmed)", n)
	}
	if n, _ := s.PurgeUnconfirmed(ctx, now.Add(-48*time.Hour)); n != 0 {
		t.Fatal("a second purge removed more")
	}
}
