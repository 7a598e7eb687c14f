package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/outcry/outcry/internal/sendlog"
)

// The console's digest preview reads what the next digest would carry and
// changes nothing (issue 26): after it, the sender forms the same digest;
// a digest formed and waiting is shown before the queue; a sent digest's
// letters stay readable for its page.
func TestPendingDigestChangesNothing(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("p%d@example.org", i)), msgs("t1", "t2")); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := s.StatusCounts(ctx, "c")
	p, err := s.PendingDigest(ctx, "c", "t1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Formed || p.Waiting != 5 || len(p.Letters) != 3 || p.Letters[0].FirstName == "" || p.Letters[0].Body != "b" {
		t.Fatalf("pending = %+v, want the 3 oldest of 5 waiting, with their text", p)
	}
	after, _ := s.StatusCounts(ctx, "c")
	if fmt.Sprint(before) != fmt.Sprint(after) || after["queued"] != 10 {
		t.Fatalf("counts changed by a preview: %v, then %v", before, after)
	}
	ds, err := s.ClaimDigests(ctx, "me", []DigestRequest{{Target: ClaimTarget{ID: "t1", Limit: 1}, Campaign: "c", Max: 3}})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim after a preview: %d (%v)", len(ds), err)
	}
	for i, l := range ds[0].Letters {
		if l.MessageID != p.Letters[i].MessageID {
			t.Fatalf("the sender formed letters %v, the preview showed %v", ds[0].Letters, p.Letters)
		}
	}
	// The digest formed goes back to the queue (a failed attempt): the
	// preview shows it, with its letters.
	if err := s.FinishDigests(ctx, []sendlog.Outcome{{ID: ds[0].ID, Digest: true, Status: sendlog.Queued, Error: "busy"}}); err != nil {
		t.Fatal(err)
	}
	if p, err = s.PendingDigest(ctx, "c", "t1", 3); err != nil || !p.Formed || len(p.Letters) != 3 || p.Waiting != 2 {
		t.Fatalf("with a digest waiting: %+v (%v)", p, err)
	}
	// The sender leases it again and sends it.
	if _, err := s.ClaimDigests(ctx, "me", []DigestRequest{{Target: ClaimTarget{ID: "t1", Limit: 1}, Campaign: "c", Max: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDigests(ctx, []sendlog.Outcome{{ID: ds[0].ID, Digest: true, Status: sendlog.Sent, Attempted: true, ProviderID: "x"}}); err != nil {
		t.Fatal(err)
	}
	row, err := s.Digest(ctx, ds[0].ID)
	if err != nil || row.Status != string(sendlog.Sent) || row.TargetID != "t1" {
		t.Fatalf("digest row %+v (%v)", row, err)
	}
	letters, err := s.DigestLettersOf(ctx, ds[0].ID)
	if err != nil || len(letters) != 3 {
		t.Fatalf("a sent digest's letters: %d (%v)", len(letters), err)
	}
	if _, err := s.Digest(ctx, 999999); err != ErrNotFound {
		t.Fatalf("no such digest: %v", err)
	}
}
