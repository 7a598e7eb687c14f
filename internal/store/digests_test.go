package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// Forming digests: one transaction takes the oldest due letters out of the
// queue; a letter is never in two digests; a failed digest's letter that
// is retried leaves it.
func TestDigestsFormFinishRetry(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 7 {
		if _, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("d%d@example.org", i)), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	req := []DigestRequest{{Target: ClaimTarget{ID: "t1", Email: "t1@example.com", Limit: 5}, Campaign: "c", Max: 3}}
	ds, err := s.ClaimDigests(ctx, "me", req)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || len(ds[0].Letters) != 3 || len(ds[1].Letters) != 3 || len(ds[2].Letters) != 1 {
		t.Fatalf("digests %d, want 3 of 3, 3 and 1 letters", len(ds))
	}
	seen := map[int64]bool{}
	for _, d := range ds {
		for _, l := range d.Letters {
			if seen[l.MessageID] {
				t.Fatalf("message %d in two digests", l.MessageID)
			}
			seen[l.MessageID] = true
		}
	}
	if again, err := s.ClaimDigests(ctx, "me", req); err != nil || len(again) != 0 {
		t.Fatalf("a second claim formed %d digests (%v): the letters are taken", len(again), err)
	}
	if got, err := s.Claim(ctx, "me", 10, []ClaimTarget{{ID: "t1", Limit: 10}}); err != nil || len(got) != 0 {
		t.Fatalf("letters in a digest claimed alone: %d (%v)", len(got), err)
	}
	if err := s.FinishDigests(ctx, []sendlog.Outcome{
		{ID: ds[0].ID, Digest: true, Status: "sent", Attempted: true, ProviderID: "p0"},
		{ID: ds[1].ID, Digest: true, Status: "failed", Attempted: true, Error: "400"},
		{ID: ds[2].ID, Digest: true, Status: "queued", Attempted: true, Next: time.Now().Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.StatusCounts(ctx, "c")
	if c["sent"] != 3 || c["failed"] != 3 || c["sending"] != 1 {
		t.Fatalf("counts %v, want 3 sent, 3 failed, 1 still in its digest", c)
	}
	failed := ds[1].Letters[0].MessageID
	if ok, err := s.RetryMessage(ctx, failed); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if d, err := s.Message(ctx, failed); err != nil || d.DigestID != 0 || d.Status != "queued" {
		t.Fatalf("retried letter: %+v (%v)", d, err)
	}
}

// After a restart the cap window counts a sent digest as one email, not
// one per letter (RecentSends).
func TestRecentSendsCountsADigestOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 4 {
		if _, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("r%d@example.org", i)), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.ClaimDigests(ctx, "me", []DigestRequest{{Target: ClaimTarget{ID: "t1", Limit: 1}, Campaign: "c", Max: 3}})
	if err != nil || len(ds) != 1 {
		t.Fatal(len(ds), err)
	}
	if err := s.FinishDigests(ctx, []sendlog.Outcome{{ID: ds[0].ID, Digest: true, Status: "sent", Attempted: true}}); err != nil {
		t.Fatal(err)
	}
	single := claimN(t, s, 1)
	if err := s.Finish(ctx, []sendlog.Outcome{{ID: single[0].ID, Status: "sent", Attempted: true}}); err != nil {
		t.Fatal(err)
	}
	recent, err := s.RecentSends(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recent["t1"]); n != 2 {
		t.Fatalf("the window holds %d sends, want 2 (a digest of 3 letters and a single letter)", n)
	}
}

// A digest's letters carry the target's salutation, title and name as the
// letters were addressed (issue 26: the digest greeted "Dear Ted Sarandos,"
// where single letters said "Dear Mr. Sarandos,").
func TestDigestLettersCarryTheSalutation(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 2 {
		if _, err := s.CreateLetter(ctx, letterSup(fmt.Sprintf("sal%d@example.org", i)), msgs("t1")); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.ClaimDigests(ctx, "me", []DigestRequest{{Target: ClaimTarget{ID: "t1", Email: "t1@example.com",
		Name: "Ted Sarandos", Title: "Co-CEO", Salutation: "Mr. Sarandos", Limit: 1}, Campaign: "c", Max: 5}})
	if err != nil || len(ds) != 1 || len(ds[0].Letters) != 2 {
		t.Fatalf("digests %d (%v)", len(ds), err)
	}
	for _, l := range ds[0].Letters {
		if l.Salutation != "Mr. Sarandos" || l.Title != "Co-CEO" || l.TargetName != "Ted Sarandos" {
			t.Fatalf("digest letter addressed to %q %q %q, want Ted Sarandos, Co-CEO, Mr. Sarandos", l.TargetName, l.Title, l.Salutation)
		}
	}
}
