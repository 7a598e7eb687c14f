package store

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
)

// A claim takes turns (issue 28): beside a campaign with 100,000 letters
// queued, a new campaign's first letter is in the very next claim, near its
// head. At OUTCRY_SEND_RATE=50 the sender claims 100 messages (two
// seconds' worth) and sends them in the claim's order, so a letter in the
// first 50 leaves within a second of the claim.
func TestClaimTakesTurnsBesideABacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 messages: not in -short")
	}
	ctx := context.Background()
	s := openTest(t)
	targets := make([]string, 10)
	for i := range targets {
		targets[i] = fmt.Sprintf("t%d", i+1)
	}
	// 10,000 supporters of "big", each writing to the 10 targets.
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, 10_000)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ns := letterSup(fmt.Sprintf("b%d@example.org", i))
				ns.Campaign = "big"
				if _, err := s.CreateLetter(ctx, ns, targets); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range 10_000 {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	small := letterSup("new@example.org")
	small.Campaign = "small"
	if _, err := s.CreateLetter(ctx, small, []string{"t3"}); err != nil {
		t.Fatal(err)
	}
	want := make([]ClaimTarget, len(targets))
	for i, id := range targets {
		want[i] = ClaimTarget{ID: id, Email: id + "@example.org", Name: id, Limit: math.MaxInt32}
	}
	const rate, batch = 50, 100
	got, err := s.Claim(ctx, "me", batch, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != batch {
		t.Fatalf("claimed %d, want %d", len(got), batch)
	}
	pos, perTarget := -1, map[string]int{}
	for i, c := range got {
		if c.Campaign == "small" {
			pos = i
		}
		perTarget[c.TargetID]++
	}
	if pos < 0 {
		t.Fatal("the small campaign's letter is not in the claim beside the backlog")
	}
	if pos >= rate {
		t.Fatalf("the small campaign's letter is number %d of the claim: at %d a second it leaves after more than a second", pos+1, rate)
	}
	// Within the big campaign, its targets took turns.
	for _, id := range targets {
		if n := perTarget[id]; n < 9 || n > 11 {
			t.Fatalf("claim per target %v: want about 10 each", perTarget)
		}
	}
	t.Logf("the small campaign's letter is number %d of a claim of %d beside 100,000 queued", pos+1, batch)
}

// The share-out on its own: two campaigns alternate, targets take turns,
// limits and held targets are kept.
func TestAllocateTakesTurns(t *testing.T) {
	targets := []ClaimTarget{{ID: "a", Limit: 3}, {ID: "b", Limit: 100}, {ID: "h", Limit: 5}}
	queued := map[string][]campaignCount{
		"a": {{campaign: "big", n: 1000}, {campaign: "small", n: 1}},
		"b": {{campaign: "big", n: 1000}},
		"h": {{campaign: "small", n: 10}},
	}
	out := allocate(targets, map[string]bool{"h": true}, queued, 8, 0)
	total := map[string]int{}
	for _, sh := range out {
		total[targets[sh.target].ID+"/"+sh.campaign] += sh.n
	}
	if total["a/small"] != 1 || total["a/big"] != 2 || total["b/big"] != 5 || total["h/small"] != 0 {
		t.Fatalf("shares %v", total)
	}
	if out[0].campaign != "big" || out[1].campaign != "small" {
		t.Fatalf("first shares %+v: the campaigns must alternate from the first round", out[:2])
	}
}
