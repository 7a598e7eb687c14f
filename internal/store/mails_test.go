package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

func TestMailQueue(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	m := NewMail{Campaign: "c", SupporterID: 7, Kind: "reply", ToEmail: "ann@example.org", ToName: "Ann Lee",
		FromName: "Bee Friends", ReplyTo: "bees@example.org", Subject: "A reply", Body: "Hello",
		Headers: map[string]string{"List-Unsubscribe": "<https://example.org/u/1>"}, DedupeKey: "reply:1:7"}
	id, created, err := s.EnqueueMail(ctx, m)
	if err != nil || !created || id == 0 {
		t.Fatalf("enqueue: %d %v %v", id, created, err)
	}
	// The same key again: not queued a second time, the first mail's id.
	again, created, err := s.EnqueueMail(ctx, m)
	if err != nil || created || again != id {
		t.Fatalf("enqueue again: %d %v %v, want %d false", again, created, err, id)
	}
	// Without a key, every mail is queued.
	m2 := m
	m2.DedupeKey, m2.Headers, m2.SupporterID = "", nil, 0
	id2, created, err := s.EnqueueMail(ctx, m2)
	if err != nil || !created || id2 == id {
		t.Fatalf("enqueue without key: %d %v %v", id2, created, err)
	}
	if _, created, _ := s.EnqueueMail(ctx, m2); !created {
		t.Fatal("a second mail without a key was not queued")
	}
	// Not yet due: not claimed.
	m3 := m2
	m3.DueAt = time.Now().Add(time.Hour)
	later, _, err := s.EnqueueMail(ctx, m3)
	if err != nil {
		t.Fatal(err)
	}

	got, err := s.ClaimMails(ctx, 10, time.Minute)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim: %d mails, %v", len(got), err)
	}
	if got[0].ID != id || got[0].Headers["List-Unsubscribe"] != m.Headers["List-Unsubscribe"] || got[0].SupporterID != 7 ||
		got[0].ToName != "Ann Lee" || got[0].ReplyTo != "bees@example.org" || got[0].Status != sendlog.Sending || got[0].DedupeKey != "reply:1:7" {
		t.Fatalf("claimed %+v", got[0])
	}
	for _, g := range got {
		if g.ID == later {
			t.Fatal("a mail not yet due was claimed")
		}
	}
	// Claimed mails are held for the lease.
	if more, err := s.ClaimMails(ctx, 10, time.Minute); err != nil || len(more) != 0 {
		t.Fatalf("claimed again within the lease: %d, %v", len(more), err)
	}

	if err := s.FinishMail(ctx, MailOutcome{ID: id, Status: sendlog.Sent, ProviderID: "p1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishMail(ctx, MailOutcome{ID: id2, Status: sendlog.Queued, Error: "503", Next: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishMail(ctx, MailOutcome{ID: got[2].ID, Status: sendlog.Failed, Error: "400 bad"}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishMail(ctx, MailOutcome{ID: id, Status: sendlog.Delivered}); err == nil {
		t.Fatal("finish with delivered accepted")
	}
	for _, c := range []struct {
		id       int64
		status   sendlog.Status
		attempts int
		err      string
	}{{id, sendlog.Sent, 1, ""}, {id2, sendlog.Queued, 1, "503"}, {got[2].ID, sendlog.Failed, 1, "400 bad"}, {later, sendlog.Queued, 0, ""}} {
		st, n, e, err := s.MailState(ctx, c.id)
		if err != nil || st != c.status || n != c.attempts || e != c.err {
			t.Errorf("mail %d: %s %d %q %v, want %s %d %q", c.id, st, n, e, err, c.status, c.attempts, c.err)
		}
	}
	// The requeued mail is due again, with its attempts.
	if re, err := s.ClaimMails(ctx, 10, time.Minute); err != nil || len(re) != 1 || re[0].ID != id2 || re[0].Attempts != 1 {
		t.Fatalf("reclaim: %+v %v", re, err)
	}
	// The key stays taken once the mail is sent.
	if again, created, err := s.EnqueueMail(ctx, m); err != nil || created || again != id {
		t.Fatalf("enqueue after sent: %d %v %v", again, created, err)
	}
}

// A mail queued in a transaction that rolls back is not queued.
func TestMailEnqueueTxRollsBack(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	m := NewMail{Campaign: "c", Kind: "update", ToEmail: "ann@example.org", Subject: "News", Body: "b", DedupeKey: "update:1"}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, _, err := EnqueueMailTx(ctx, tx, s.nowMs(), m); err != nil {
			return err
		}
		return context.Canceled // the caller's write fails
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	if _, created, err := s.EnqueueMail(ctx, m); err != nil || !created {
		t.Fatalf("after the rollback: created %v, %v", created, err)
	}
}

// A mail a stopped sender was sending is taken again once its lease runs out.
func TestMailLeaseRunsOut(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	id, _, err := s.EnqueueMail(ctx, NewMail{Campaign: "c", Kind: "update", ToEmail: "a@example.org", Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimMails(ctx, 5, time.Minute); err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	now = now.Add(2 * time.Minute)
	if got, err := s.ClaimMails(ctx, 5, time.Minute); err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("claim after the lease: %v %v", got, err)
	}
}
