package sendwindow

import (
	"strings"
	"testing"
	"time"
)

func london(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database on this machine:", err)
	}
	return loc
}

func TestOfficeHoursAcrossAWeekend(t *testing.T) {
	loc := london(t)
	w, err := Parse("Europe/London", "08:00-19:00", []string{"mon", "tue", "wed", "thu", "fri"})
	if err != nil {
		t.Fatal(err)
	}
	// Friday 24 October 2025 to Monday 27 October, across the end of
	// summer time (Sunday 26 October: a day of 25 hours).
	cases := []struct {
		at   time.Time
		open bool
		next string
	}{
		{time.Date(2025, 10, 24, 7, 59, 0, 0, loc), false, "Friday 08:00 Europe/London"},
		{time.Date(2025, 10, 24, 8, 0, 0, 0, loc), true, ""},
		{time.Date(2025, 10, 24, 18, 59, 0, 0, loc), true, ""},
		{time.Date(2025, 10, 24, 19, 0, 0, 0, loc), false, "Monday 08:00 Europe/London"},
		{time.Date(2025, 10, 25, 12, 0, 0, 0, loc), false, "Monday 08:00 Europe/London"},
		{time.Date(2025, 10, 26, 12, 0, 0, 0, loc), false, "Monday 08:00 Europe/London"},
		{time.Date(2025, 10, 27, 8, 0, 0, 0, loc), true, ""},
	}
	for _, c := range cases {
		if got := w.Open(c.at); got != c.open {
			t.Errorf("%s: open %v, want %v", c.at, got, c.open)
		}
		if got := w.Describe(c.at); got != c.next {
			t.Errorf("%s: next window %q, want %q", c.at, got, c.next)
		}
	}
	// The next window opens at 08:00 London time, which after the change
	// of hour is 08:00 UTC (it was 07:00 UTC on the Friday).
	next := w.NextOpen(time.Date(2025, 10, 24, 19, 0, 0, 0, loc))
	if want := time.Date(2025, 10, 27, 8, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Fatalf("opens %s, want %s", next.UTC(), want)
	}
	fri := w.NextOpen(time.Date(2025, 10, 24, 6, 0, 0, 0, loc))
	if want := time.Date(2025, 10, 24, 7, 0, 0, 0, time.UTC); !fri.Equal(want) {
		t.Fatalf("opens %s, want %s", fri.UTC(), want)
	}
}

func TestPastMidnightAndAllDay(t *testing.T) {
	w, err := Parse("", "22:00-06:00", []string{"fri"})
	if err != nil {
		t.Fatal(err)
	}
	fri23 := time.Date(2025, 10, 24, 23, 0, 0, 0, time.UTC)
	sat05 := time.Date(2025, 10, 25, 5, 0, 0, 0, time.UTC)
	sat23 := time.Date(2025, 10, 25, 23, 0, 0, 0, time.UTC)
	if !w.Open(fri23) || !w.Open(sat05) || w.Open(sat23) {
		t.Fatalf("open fri 23:00 %v, sat 05:00 %v, sat 23:00 %v", w.Open(fri23), w.Open(sat05), w.Open(sat23))
	}
	var always Window
	if !always.Always() || !always.Open(sat23) || always.Describe(sat23) != "" {
		t.Fatal("the zero window must be always open")
	}
	days, _ := Parse("", "", []string{"sat"})
	if days.Open(fri23) || !days.Open(sat23) || days.Describe(fri23) != "Saturday 00:00 UTC" {
		t.Fatalf("all day saturday: %v %v %q", days.Open(fri23), days.Open(sat23), days.Describe(fri23))
	}
}

func TestParseNamesEachBadSetting(t *testing.T) {
	_, err := Parse("Mars/Olympus", "8-19", []string{"mon", "someday"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"timezone", "sending_hours", "sending_days", "someday"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := Parse("", "09:00-09:00", nil); err == nil {
		t.Error("an empty window was accepted")
	}
	if _, _, _, err := ParseEvery("24h@25:00"); err == nil {
		t.Error("24h@25:00 accepted")
	}
}

// The daily digest at 09:00 London time stays at 09:00 on the days the
// clocks change: the spring day has 23 hours between digests, the autumn
// day 25.
func TestDailyDigestAcrossTheChangeOfHour(t *testing.T) {
	loc := london(t)
	every, at, hasAt, err := ParseEvery("24h@09:00")
	if err != nil || !hasAt {
		t.Fatal(err)
	}
	s := Schedule{Every: every, At: at, Loc: loc}
	for _, c := range []struct {
		day   time.Time // the day before the change
		hours float64
	}{
		{time.Date(2025, 3, 29, 6, 0, 0, 0, loc), 23},
		{time.Date(2025, 10, 25, 6, 0, 0, 0, loc), 25},
		{time.Date(2025, 6, 10, 12, 0, 0, 0, loc), 24},
	} {
		d1 := s.Next(c.day)
		d2 := s.Next(d1)
		if d1.In(loc).Hour() != 9 || d2.In(loc).Hour() != 9 {
			t.Fatalf("digests at %s and %s, want 09:00 London", d1.In(loc), d2.In(loc))
		}
		if got := d2.Sub(d1).Hours(); got != c.hours {
			t.Errorf("from %s: %v hours between digests, want %v", d1.In(loc), got, c.hours)
		}
		if last := s.Last(d2.Add(-time.Second)); !last.Equal(d1) {
			t.Errorf("last before %s is %s, want %s", d2, last, d1)
		}
		if last := s.Last(d2); !last.Equal(d2) {
			t.Errorf("last at %s is %s", d2, last)
		}
	}
	// UTC, not daily: the same times as before time zones.
	u := Schedule{Every: 6 * time.Hour, At: 9 * time.Hour}
	if got := u.Last(time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2025, 1, 1, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("6h@09:00 last before 08:00 is %s", got)
	}
}
