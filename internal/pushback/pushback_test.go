package pushback

import (
	"testing"
	"time"
)

func TestAllowanceAndFloor(t *testing.T) {
	for _, c := range []struct{ cap, floor int }{{30, 4}, {2, 1}, {1, 0}, {0, 0}, {300, 8}} {
		if got := Floor(c.cap); got != c.floor {
			t.Errorf("Floor(%d) = %d, want %d", c.cap, got, c.floor)
		}
	}
	var got []int
	for k := range 6 {
		got = append(got, Allowance(30, k))
	}
	if want := []int{30, 15, 7, 3, 1, 1}; !equal(got, want) {
		t.Errorf("allowances at cap 30: %v, want %v", got, want)
	}
	if Allowance(0, 3) != 0 {
		t.Error("no cap: no allowance to halve")
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// run moves a target through hours: pushed[h] says whether push-backs came
// in hour h; it returns the allowance at the end of each hour and when the
// target was flagged (-1: never), calling Next every minute as a sender
// does at each renewal.
func run(cap int, pushed func(h int) bool, hours int) (allow []int, flagged int) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := State{Target: "t"}
	flagged = -1
	for m := 0; m < hours*60; m++ {
		now := start.Add(time.Duration(m) * time.Minute)
		if m%60 == 10 && pushed(m/60) { // a deferral ten minutes into the hour
			s.LastPushback, s.Pushbacks, s.Reason = now, s.Pushbacks+1, "deferred: 421 try later"
		}
		for {
			var st Step
			var ok bool
			s, st, ok = Next(s, cap, now)
			if !ok {
				break
			}
			if st.Kind == Flag && flagged < 0 {
				flagged = m / 60
			}
		}
		if m%60 == 59 {
			allow = append(allow, Allowance(cap, s.Level))
		}
	}
	return allow, flagged
}

func TestStepsDownUpAndFlags(t *testing.T) {
	// Push-backs in hours 0–29, then none.
	allow, flagged := run(30, func(h int) bool { return h < 30 }, 36)
	want := []int{15, 7, 3, 1, 1}
	if !equal(allow[:5], want) {
		t.Fatalf("first hours: %v, want %v", allow[:5], want)
	}
	// The floor is reached at 03:10 (hour 3); 24 hours later it is flagged.
	if flagged != 27 {
		t.Fatalf("flagged in hour %d, want 27 (24 h at the floor)", flagged)
	}
	// The last push-back at 29:10; one level back an hour after it and
	// one an hour after that: 3 in hour 30, 7 in 31, 15 in 32, 30 in 33.
	if got, want := allow[29:34], []int{1, 3, 7, 15, 30}; !equal(got, want) {
		t.Fatalf("recovery: %v, want %v (all: %v)", got, want, allow)
	}

	// A few hours of push-backs: never flagged, back to the cap.
	allow, flagged = run(30, func(h int) bool { return h < 2 }, 8)
	if flagged >= 0 || allow[len(allow)-1] != 30 {
		t.Fatalf("short push-back: %v, flagged %d", allow, flagged)
	}
	// No cap, or a cap of 1: nothing to halve, no step.
	if s, _, ok := Next(State{LastPushback: time.Now()}, 0, time.Now()); ok || s.Level != 0 {
		t.Fatal("a step without a cap")
	}
}
