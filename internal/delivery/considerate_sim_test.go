package delivery_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/sendwindow"
	"github.com/outcry/outcry/internal/store"
)

// Sending like a considerate correspondent (issue 28), on the simulated
// clock with the real store.

func londonTZ(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	return loc
}

// withWindow gives the sim's campaign a sending window and, when set, its
// own digest schedule.
func (s *sim) withWindow(w sendwindow.Window, digest *sendwindow.Schedule) {
	base := s.policy.Campaign
	s.policy.Campaign = func(slug string) (outbox.CampaignInfo, bool) {
		c, ok := base(slug)
		c.Window, c.Digest = w, digest
		return c, ok
	}
}

// Letters written on a Friday evening: what the hour before 19:00 allows
// goes on Friday, nothing at the weekend (which ends with the change of
// hour), the rest from 08:00 London time on Monday, which is 08:00 UTC
// after the change (07:00 UTC before it).
func TestOfficeHoursAcrossAWeekendAndTheChangeOfHour(t *testing.T) {
	loc := londonTZ(t)
	w, err := sendwindow.Parse("Europe/London", "08:00-19:00", []string{"mon", "tue", "wed", "thu", "fri"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 10, 24, 18, 30, 0, 0, loc) // Friday, summer time
	s := newSim(t, start, 30, outbox.Policy{Mode: delivery.Individual})
	s.withWindow(w, nil)
	s.write(40, "t1")
	// Fewer steps at the weekend (the race detector makes each slow).
	s.runUntil(time.Date(2025, 10, 24, 19, 30, 0, 0, loc), 5*time.Minute)
	s.runUntil(time.Date(2025, 10, 27, 7, 30, 0, 0, loc), time.Hour)
	s.runUntil(time.Date(2025, 10, 27, 10, 0, 0, 0, loc), 5*time.Minute)
	s.check(40, []string{"t1"}, 30)
	var friday, monday int
	for _, ml := range s.mail.mails {
		if !w.Open(ml.at) {
			t.Fatalf("an email left at %s, outside the sending hours", ml.at.In(loc))
		}
		switch ml.at.In(loc).Weekday() {
		case time.Friday:
			friday++
		case time.Monday:
			monday++
			if ml.at.Before(time.Date(2025, 10, 27, 8, 0, 0, 0, time.UTC)) {
				t.Fatalf("sent at %s UTC, before 08:00 London", ml.at.UTC())
			}
		}
	}
	if friday != 30 || monday != 10 {
		t.Fatalf("%d emails on Friday, %d on Monday; want 30 (the cap) and 10", friday, monday)
	}
	if first := s.mail.mails[30].at; !first.Equal(time.Date(2025, 10, 27, 8, 0, 0, 0, loc)) {
		t.Fatalf("Monday's first email at %s, want 08:00 London", first.In(loc))
	}
}

// The daily digest at 09:00 in the campaign's zone keeps to 09:00 on the
// days the clocks change: 25 hours apart in October, 23 in March.
func TestDailyDigestInTheCampaignsZone(t *testing.T) {
	loc := londonTZ(t)
	for _, c := range []struct {
		name  string
		day   time.Time // 06:00 on the day before the change
		hours float64
	}{
		{"autumn", time.Date(2025, 10, 25, 6, 0, 0, 0, loc), 25},
		{"spring", time.Date(2025, 3, 29, 6, 0, 0, 0, loc), 23},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(t, c.day, 30, outbox.Policy{Mode: delivery.Digest, Every: 24 * time.Hour, At: 0})
			w, _ := sendwindow.Parse("Europe/London", "", nil)
			s.withWindow(w, &sendwindow.Schedule{Every: 24 * time.Hour, At: 9 * time.Hour})
			s.write(3, "t1")
			s.runUntil(c.day.Add(6*time.Hour), 15*time.Minute) // past the first 09:00
			s.write(6, "t1")                                   // the first three are the same supporters: 3 new letters
			s.runUntil(c.day.Add(28*time.Hour), 15*time.Minute)
			if len(s.mail.mails) != 2 {
				t.Fatalf("%d emails, want 2 digests", len(s.mail.mails))
			}
			d1, d2 := s.mail.mails[0].at, s.mail.mails[1].at
			for _, d := range []time.Time{d1, d2} {
				if h, m, _ := d.In(loc).Clock(); h != 9 || m != 0 {
					t.Fatalf("digest at %s, want 09:00 London", d.In(loc))
				}
			}
			if got := d2.Sub(d1).Hours(); got != c.hours {
				t.Fatalf("%v hours between the digests, want %v", got, c.hours)
			}
		})
	}
}

// most is the largest number of emails to one target in any window of d.
func (s *sim) most(d time.Duration) (n int, at time.Time) {
	per := map[string][]time.Time{}
	for _, ml := range s.mail.mails {
		per[ml.m.TargetID] = append(per[ml.m.TargetID], ml.at)
	}
	for _, ts := range per {
		for i := range ts {
			j := i
			for j < len(ts) && ts[j].Sub(ts[i]) < d {
				j++
			}
			if j-i > n {
				n, at = j-i, ts[i]
			}
		}
	}
	return n, at
}

// With the allowance spread (the default), a target's 30 emails of an
// hour leave across the hour, never more than 5 in any 5 minutes; the
// sliding-hour cap stays exact, digests counted.
func TestSpreadAcrossTheHour(t *testing.T) {
	for _, c := range []struct {
		name string
		mode delivery.Mode
	}{{"individual", delivery.Individual}, {"overflow", delivery.Overflow}} {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(t, simStart, 30, outbox.Policy{Mode: c.mode, After: time.Hour, Max: 50})
			s.spread = true
			s.sender = s.newSender(s.mail)
			s.write(60, "t1", "t2")
			end := simStart.Add(90 * time.Minute)
			if c.mode == delivery.Individual {
				end = simStart.Add(150 * time.Minute)
			}
			s.runUntil(end, 30*time.Second)
			s.check(60, []string{"t1", "t2"}, 30) // every letter once, no hour over 30
			if n, at := s.most(5 * time.Minute); n > 5 {
				t.Fatalf("%d emails to one target in the 5 minutes from %s", n, at.Format(time.TimeOnly))
			}
			// Not a burst: the first hour's emails to a target span most
			// of it.
			var first, last time.Time
			for _, ml := range s.mail.mails {
				if ml.m.TargetID == "t1" && ml.at.Before(simStart.Add(time.Hour)) {
					if first.IsZero() {
						first = ml.at
					}
					last = ml.at
				}
			}
			if span := last.Sub(first); span < 40*time.Minute {
				t.Fatalf("the first hour's emails to t1 span %s, want them spread over most of the hour", span)
			}
		})
	}
}

// The domain cap is exact across two campaigns and 20 targets at one
// domain, digests counted: no sliding hour holds more than the cap, and
// the letters it holds back are gathered into digests rather than delayed
// without bound.
func TestDomainCapExactAcrossCampaigns(t *testing.T) {
	const domainCap = 50
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Overflow, After: time.Hour, Max: 500})
	s.domainCap = domainCap
	s.sender = s.newSender(s.mail)
	var targets []string
	for i := range 20 {
		targets = append(targets, fmt.Sprintf("p%d", i+1))
	}
	ctx := context.Background()
	for _, camp := range []string{"c", "d"} {
		for i := range 10 {
			if _, _, err := s.st.WriteLetter(ctx, store.NewSupporter{Campaign: camp, Email: fmt.Sprintf("%s%d@example.org", camp, i),
				FirstName: "W", LastName: fmt.Sprint(i), Subject: simSubject, Body: simBody}, targets); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.runUntil(simStart.Add(3*time.Hour), time.Minute)
	var at []time.Time
	for _, ml := range s.mail.mails {
		if delivery.Domain(ml.m.TargetEmail) != "parliament.example" {
			t.Fatalf("email to %q", ml.m.TargetEmail)
		}
		at = append(at, ml.at)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < time.Hour {
			j++
		}
		if j-i > domainCap {
			t.Fatalf("%d emails to parliament.example in the hour from %s (cap %d)", j-i, at[i].Format(time.TimeOnly), domainCap)
		}
	}
	if n, _ := s.most(time.Hour); n > 30 {
		t.Fatalf("%d emails to one target in an hour (cap 30)", n)
	}
	var last time.Time
	for _, camp := range []string{"c", "d"} {
		c, err := s.st.StatusCounts(ctx, camp)
		if err != nil {
			t.Fatal(err)
		}
		if c["sent"] != 200 {
			t.Fatalf("campaign %s: %v, want 200 sent", camp, c)
		}
	}
	last = at[len(at)-1]
	digests := 0
	for _, ml := range s.mail.mails {
		if ml.m.DigestID != 0 {
			digests++
		}
	}
	t.Logf("400 letters, 20 targets at one domain, cap 50/h: %d emails (%d digests), the last after %s", len(at), digests, last.Sub(simStart))
	if last.Sub(simStart) > time.Hour+10*time.Minute {
		t.Fatalf("the last letter left after %s: held letters must go in digests after OUTCRY_DIGEST_AFTER", last.Sub(simStart))
	}
}
