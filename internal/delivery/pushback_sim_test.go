package delivery_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/webhook"
)

// Back-off when a receiving server pushes back (issue 28 §4), on the
// simulated clock with the real store: t1's server defers an email ten
// minutes into every hour for 28 hours (one of them a 4xx soft bounce).
// Its allowance halves each hour, 30 → 15 → 7 → 3 → 1; after 24 hours at
// 1 it is flagged (sending to it stops) — and not before; the organizer
// clears the flag; without push-backs it climbs back one level an hour to
// 30. t2, at the same sender, keeps its full cap throughout. The sender is
// replaced (a restart) while t1 is at the floor: the allowance holds. No
// sliding hour gives t1 more than the allowance in force.
func TestBackoffStepsDownAndUpAndFlags(t *testing.T) {
	ctx := context.Background()
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Individual})
	s.write(250, "t1", "t2")
	at := func(h, m int) time.Time {
		return simStart.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	lastTo := func(target string) delivery.Message {
		for i := len(s.mail.mails) - 1; i >= 0; i-- {
			if m := s.mail.mails[i].m; m.TargetID == target {
				return m
			}
		}
		t.Fatalf("no email to %s yet", target)
		return delivery.Message{}
	}
	flagged := func() bool {
		st, err := s.st.TargetStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st["t1"].NeedsAttention
	}
	n := 0
	for h := 0; h < 34; h++ {
		for m := 0; m < 60; m += 10 {
			s.clock.set(at(h, m))
			if m == 10 && h < 28 {
				// The server pushes back on the latest email to t1.
				n++
				e := webhook.Event{Event: "deferred", SGEventID: fmt.Sprintf("d%d", n), OutcryID: lastTo("t1").PublicID,
					Response: "421 4.7.0 try again later"}
				if h == 2 {
					e = webhook.Event{Event: "bounce", Type: "bounce", Status: "4.2.2", SGEventID: fmt.Sprintf("d%d", n),
						OutcryID: lastTo("t1").PublicID, Reason: "mailbox full"}
				}
				if res, err := s.st.ApplyEvents(ctx, []webhook.Event{e}); err != nil || res.Stored != 1 {
					t.Fatalf("event at %s: %+v %v", s.clock.now().Format(time.TimeOnly), res, err)
				}
			}
			if h == 12 && m == 30 {
				s.sender = s.newSender(s.mail) // a restart
			}
			if h == 28 && m == 0 {
				if !flagged() {
					t.Fatal("not flagged after 24 hours at the floor")
				}
				if err := s.st.ClearNeedsAttention(ctx, "t1"); err != nil { // the organizer
					t.Fatal(err)
				}
			}
			s.runUntil(s.clock.now(), time.Minute) // the sender's turns at this moment
			if h == 27 && m == 0 && flagged() {
				t.Fatal("flagged before 24 hours at the floor")
			}
			if h == 2 && m == 20 && flagged() {
				t.Fatal("a soft bounce flagged the target at once")
			}
		}
	}

	steps, err := s.st.PushbackSteps(ctx, "t1", 100)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(steps)
	var got []string
	for _, st := range steps {
		got = append(got, fmt.Sprintf("%s %s %d", st.At.Sub(simStart), st.Kind, st.Allowance))
	}
	want := []string{"10m0s down 15", "1h10m0s down 7", "2h10m0s down 3", "3h10m0s down 1", "27h10m0s flag 1",
		"28h10m0s up 3", "29h10m0s up 7", "30h10m0s up 15", "31h10m0s up 30"}
	if !slices.Equal(got, want) {
		t.Fatalf("t1's steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st, _ := s.st.PushbackSteps(ctx, "t2", 10); len(st) != 0 {
		t.Fatalf("t2 was never pushed back, yet has steps %v", st)
	}

	// The allowance in force when each email to t1 left bounds the emails
	// of the sliding hour up to it.
	allowanceAt := func(when time.Time) int {
		a := 30
		for _, st := range steps {
			if !st.At.After(when) {
				a = st.Allowance
			}
		}
		return a
	}
	var sends []time.Time
	perHour := map[int]int{}
	for _, ml := range s.mail.mails {
		if ml.m.TargetID == "t1" {
			sends = append(sends, ml.at)
			perHour[int(ml.at.Sub(simStart)/time.Hour)]++
		}
	}
	for i, when := range sends {
		k := 0
		for j := i; j >= 0 && when.Sub(sends[j]) < time.Hour; j-- {
			k++
		}
		if a := allowanceAt(when); k > a {
			t.Fatalf("%d emails to t1 in the hour up to %s, with an allowance of %d", k, when.Sub(simStart), a)
		}
	}
	// It kept sending at the floor (1 an hour, the restart included),
	// stopped while flagged, and sends the full cap again at the end.
	for h := 5; h < 27; h++ {
		if perHour[h] != 1 {
			t.Fatalf("hour %d: %d emails to t1, want 1 at the floor (all: %v)", h, perHour[h], perHour)
		}
	}
	if perHour[27] > 1 {
		t.Fatalf("hour 27: %d emails to t1", perHour[27])
	}
	if perHour[32] < 15 || perHour[33] != 30 {
		t.Fatalf("hours 32 and 33: %d and %d emails to t1, want the climb back (15 at least, then 30)", perHour[32], perHour[33])
	}
	// t2 kept its cap: 30 emails an hour while it had letters.
	t2 := map[int]int{}
	for _, ml := range s.mail.mails {
		if ml.m.TargetID == "t2" {
			t2[int(ml.at.Sub(simStart)/time.Hour)]++
		}
	}
	for h := range 8 {
		if t2[h] != 30 {
			t.Fatalf("hour %d: t2 got %d emails, want its full cap of 30 (all: %v)", h, t2[h], t2)
		}
	}
	if st, _ := s.st.TargetPushbacks(ctx); st["t1"].Level != 0 || pushback.Allowance(30, st["t1"].Level) != 30 {
		t.Fatalf("t1 at the end: %+v", st["t1"])
	}
}
