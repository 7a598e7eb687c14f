package store

import (
	"context"
	"testing"
)

func TestReceipt(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.Receipt(ctx, 1); ok || err != nil {
		t.Fatalf("receipt of nobody: ok %v err %v", ok, err)
	}
	if _, err := s.CreateLetter(ctx, letterSup("ann@example.org"), msgs("a", "b")); err != nil {
		t.Fatal(err)
	}
	id, ok, err := s.SupporterID(ctx, "c", "ann@example.org")
	if err != nil || !ok {
		t.Fatalf("SupporterID: %v %v", ok, err)
	}
	if _, ok, _ := s.SupporterID(ctx, "other", "ann@example.org"); ok {
		t.Fatal("found in another campaign")
	}
	if _, err := s.w.Exec(`UPDATE messages SET status = 'delivered', sent_at = 1700000000000, updated_at = 1700000060000 WHERE target_id = 'a'`); err != nil {
		t.Fatal(err)
	}
	r, ok, err := s.Receipt(ctx, id)
	if err != nil || !ok {
		t.Fatalf("Receipt: %v %v", ok, err)
	}
	if r.FirstName != "Ann" || r.Email != "ann@example.org" || r.Campaign != "c" || r.Erased || r.Subject != "s" || r.Body != "b" {
		t.Fatalf("receipt = %+v", r)
	}
	if len(r.Messages) != 2 {
		t.Fatalf("%d messages, want 2", len(r.Messages))
	}
	a, b := r.Messages[0], r.Messages[1]
	// Not claimed yet: the target's name comes from targets.yaml (the caller).
	if a.TargetName != "" || a.Status != "delivered" || a.SentAt == nil || a.SentAt.UnixMilli() != 1700000000000 || a.UpdatedAt.UnixMilli() != 1700000060000 {
		t.Errorf("first copy = %+v", a)
	}
	if b.TargetName != "" || b.Status != "queued" || b.SentAt != nil || b.QueuedAt.IsZero() {
		t.Errorf("second copy = %+v", b)
	}
	if _, err := s.EraseSupporter(ctx, "ann@example.org", ""); err != nil {
		t.Fatal(err)
	}
	r, ok, err = s.Receipt(ctx, id)
	if err != nil || !ok || !r.Erased || r.FirstName != "" || r.Body != "" {
		t.Fatalf("after erasure: ok %v err %v %+v", ok, err, r)
	}
}
