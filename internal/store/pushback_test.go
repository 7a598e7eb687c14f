package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/sendlog"
)

// The back-off's state lives in the database (issue 28 §4): push-backs
// noted by ApplyEvents, steps taken by StepPushback, on a simulated clock,
// with a second store on the same database standing for a restarted or
// another instance. Two instances stepping at once take each step once;
// a day at the floor flags the target (sending to it stops); clearing
// the flag watches it afresh; without push-backs it climbs back to the cap.
func TestPushbackStepsInTheDatabase(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	open := func() *Store {
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	base := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(d time.Duration) { mu.Lock(); now = base.Add(d); mu.Unlock() }
	s1, s2 := open(), open()
	s1.SetClock(clock)
	s2.SetClock(clock)
	m := sentMessage(t, s1)
	n := 0
	push := func(s *Store, e sendlog.Event, d time.Duration) {
		t.Helper()
		set(d)
		n++
		e.SGEventID, e.OutcryID = fmt.Sprintf("p%d", n), m.PublicID
		if res, err := s.ApplyEvents(ctx, []sendlog.Event{e}); err != nil || res.Stored != 1 {
			t.Fatalf("push-back: %+v %v", res, err)
		}
	}
	deferred := sendlog.Event{Event: "deferred", Response: "421 try again later"}
	step := func(s *Store, d time.Duration) (map[string]int, []pushback.Step) {
		t.Helper()
		set(d)
		levels, steps, err := s.StepPushback(ctx, 30, clock())
		if err != nil {
			t.Fatal(err)
		}
		return levels, steps
	}

	// Nothing pushed back: nothing to do.
	if levels, steps := step(s1, 0); len(levels) != 0 || len(steps) != 0 {
		t.Fatalf("no push-back: %v %v", levels, steps)
	}
	// A deferral halves at once; asking again changes nothing.
	push(s1, deferred, 0)
	levels, steps := step(s1, time.Minute)
	if levels["t1"] != 1 || len(steps) != 1 || steps[0].Kind != pushback.Down || steps[0].Allowance != 15 ||
		steps[0].Reason != "deferred: 421 try again later" {
		t.Fatalf("first deferral: %v %+v", levels, steps)
	}
	if levels, steps := step(s1, 2*time.Minute); levels["t1"] != 1 || len(steps) != 0 {
		t.Fatalf("asked again: %v %+v", levels, steps)
	}
	// The other instance sees the level; a soft bounce within the hour
	// halves again only when the hour is up.
	push(s2, sendlog.Event{Event: "bounce", Type: "bounce", Status: "4.2.2", Reason: "mailbox full"}, 3*time.Minute)
	if levels, steps := step(s2, 30*time.Minute); levels["t1"] != 1 || len(steps) != 0 {
		t.Fatalf("within the hour: %v %+v", levels, steps)
	}
	if flag, _, _ := s2.TargetNeedsAttention(ctx, "t1"); flag {
		t.Fatal("a soft bounce flagged the target at once")
	}
	// Both instances step at the same moment: one step is taken.
	set(time.Hour + time.Minute)
	var wg sync.WaitGroup
	var all [2][]pushback.Step
	for i, s := range []*Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, st, err := s.StepPushback(ctx, 30, clock())
			if err != nil {
				t.Error(err)
			}
			all[i] = st
		}()
	}
	wg.Wait()
	if got := len(all[0]) + len(all[1]); got != 1 {
		t.Fatalf("two instances at once took %d steps, want 1: %+v", got, all)
	}
	// Down to the floor, an hour at a time while deferrals come.
	for h := 2; h <= 3; h++ {
		push(s1, deferred, time.Duration(h)*time.Hour)
		step(s1, time.Duration(h)*time.Hour+time.Minute)
	}
	st, err := s1.TargetPushbacks(ctx)
	if err != nil || st["t1"].Level != 4 || pushback.Allowance(30, st["t1"].Level) != 1 {
		t.Fatalf("at the floor: %+v %v", st["t1"], err)
	}
	// A day of deferrals at the floor flags it, with the target.flagged
	// note; not an hour sooner.
	for h := 4; h <= 27; h++ {
		push(s1, deferred, time.Duration(h)*time.Hour)
		_, steps := step(s1, time.Duration(h)*time.Hour+time.Minute)
		flag, note, err := s1.TargetNeedsAttention(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		if h < 27 && (flag || len(steps) != 0) {
			t.Fatalf("hour %d: flagged %v, steps %+v", h, flag, steps)
		}
		if h == 27 && (!flag || len(steps) != 1 || steps[0].Kind != pushback.Flag || !strings.Contains(note, "kept pushing back")) {
			t.Fatalf("after a day at the floor: flagged %v %q, steps %+v", flag, note, steps)
		}
	}
	// The organizer clears it: watched afresh. No more push-backs: one
	// level back an hour after the last, then one an hour, read by the
	// other instance too.
	set(27*time.Hour + 30*time.Minute)
	if err := s2.ClearNeedsAttention(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	var climb []int
	for h := 28; h <= 32; h++ {
		levels, _ := step(s2, time.Duration(h)*time.Hour+time.Minute)
		climb = append(climb, pushback.Allowance(30, levels["t1"]))
	}
	if want := []int{3, 7, 15, 30, 30}; fmt.Sprint(climb) != fmt.Sprint(want) {
		t.Fatalf("climb back: %v, want %v", climb, want)
	}
	if flag, _, _ := s1.TargetNeedsAttention(ctx, "t1"); flag {
		t.Fatal("flagged again")
	}
	counts, err := s1.PushbackStepCounts(ctx)
	if err != nil || counts["down"] != 4 || counts["up"] != 4 || counts["flag"] != 1 {
		t.Fatalf("step counts %v %v", counts, err)
	}
	history, err := s2.PushbackSteps(ctx, "t1", 3)
	if err != nil || len(history) != 3 || history[0].Kind != pushback.Up || history[0].Allowance != 30 || history[0].From != 1 || history[0].To != 0 {
		t.Fatalf("history, newest first: %+v %v", history, err)
	}
}
