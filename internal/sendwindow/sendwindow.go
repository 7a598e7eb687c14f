// Package sendwindow says when a campaign may write to its targets: its
// time zone, office hours and days (issue 28), and its daily digest time in
// that zone. It holds no state; the campaign package validates the
// settings with it and the outbox asks it whether a window is open.
package sendwindow

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Window is a campaign's sending hours. The zero Window is always open, in
// UTC.
type Window struct {
	loc      *time.Location
	from, to time.Duration // time of day; from == to (both 0): all day
	days     [7]bool       // indexed by time.Weekday; all false: every day
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Parse reads a campaign's settings: tz an IANA name ("" = UTC), hours
// "HH:MM-HH:MM" ("" = all day; the end may be 24:00, and an end before the
// start runs past midnight), days three-letter names ("mon") or none for
// every day. Each problem is named by its setting.
func Parse(tz, hours string, days []string) (Window, error) {
	var w Window
	var problems []error
	loc, err := Location(tz)
	if err != nil {
		problems = append(problems, err)
	}
	w.loc = loc
	if h := strings.TrimSpace(hours); h != "" {
		a, b, ok := strings.Cut(h, "-")
		from, err1 := clock(a)
		to, err2 := clock(b)
		switch {
		case !ok || err1 != nil || err2 != nil:
			problems = append(problems, fmt.Errorf(`sending_hours: %q must be two times of day, such as "08:00-19:00"`, hours))
		case from == to:
			problems = append(problems, fmt.Errorf(`sending_hours: %q is an empty window (leave it out for all day)`, hours))
		default:
			w.from, w.to = from, to
		}
	}
	for _, d := range days {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			problems = append(problems, fmt.Errorf("sending_days: %q is not a day: use mon, tue, wed, thu, fri, sat, sun", d))
			continue
		}
		w.days[wd] = true
	}
	if len(problems) > 0 {
		return Window{}, errors.Join(problems...)
	}
	return w, nil
}

// Location loads an IANA time zone; "" is UTC.
func Location(tz string) (*time.Location, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.EqualFold(tz, "local") {
		return time.UTC, fmt.Errorf("timezone: %q is not an IANA time zone name, such as Europe/London", tz)
	}
	return loc, nil
}

// clock reads "HH:MM" (00:00 to 24:00) as a time of day.
func clock(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 24 * time.Hour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Location is the window's time zone.
func (w Window) Location() *time.Location {
	if w.loc == nil {
		return time.UTC
	}
	return w.loc
}

// Always reports whether the window never closes.
func (w Window) Always() bool { return w.from == w.to && w.days == [7]bool{} }

// dayOn reports whether day is a sending day.
func (w Window) dayOn(day time.Weekday) bool { return w.days == [7]bool{} || w.days[day] }

// Open reports whether t falls inside the window: on a sending day (the day
// the window opened, for hours past midnight) at a time of day within the
// hours, both in the window's zone.
func (w Window) Open(t time.Time) bool {
	if w.Always() {
		return true
	}
	local := t.In(w.Location())
	tod := sinceMidnight(local)
	if w.from == w.to { // all day, some days
		return w.dayOn(local.Weekday())
	}
	if w.from < w.to {
		return w.dayOn(local.Weekday()) && tod >= w.from && tod < w.to
	}
	// Past midnight: 22:00-06:00 opens on a sending day's evening.
	if tod >= w.from {
		return w.dayOn(local.Weekday())
	}
	return tod < w.to && w.dayOn(local.AddDate(0, 0, -1).Weekday())
}

// sinceMidnight is the wall-clock time of day of t (so 08:00 on a day of
// 23 hours is 8h, as on any other).
func sinceMidnight(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
}

// at is the instant of wall-clock time of day d on the local date of day
// (a time the change of hour skips is moved forward, by time.Date's rule).
func at(day time.Time, d time.Duration, loc *time.Location) time.Time {
	y, m, dd := day.In(loc).Date()
	return time.Date(y, m, dd, int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, loc)
}

// NextOpen is the first instant at or after t at which the window is open
// (t itself when it is open now).
func (w Window) NextOpen(t time.Time) time.Time {
	if w.Open(t) {
		return t
	}
	loc := w.Location()
	// The window opens at from on some sending day within the next 8
	// days (all day: at midnight of the next sending day).
	for i := 0; i <= 8; i++ {
		day := t.In(loc).AddDate(0, 0, i)
		if !w.dayOn(day.Weekday()) {
			continue
		}
		o := at(day, w.from, loc)
		if !o.Before(t) && w.Open(o) {
			return o
		}
	}
	return t // unreachable for a valid window: it opens at least weekly
}

// Describe says when the window next opens after t, for a person:
// "Monday 08:00 Europe/London"; "" when it is open at t.
func (w Window) Describe(t time.Time) string {
	if w.Open(t) {
		return ""
	}
	n := w.NextOpen(t).In(w.Location())
	return n.Format("Monday 15:04") + " " + w.Location().String()
}

// String is the window as a person reads it: "08:00-19:00 mon-fri
// Europe/London", "always".
func (w Window) String() string {
	if w.Always() {
		return "always"
	}
	var b strings.Builder
	if w.from != w.to {
		fmt.Fprintf(&b, "%02d:%02d-%02d:%02d ", int(w.from/time.Hour), int(w.from%time.Hour/time.Minute),
			int(w.to/time.Hour), int(w.to%time.Hour/time.Minute))
	}
	if w.days != [7]bool{} {
		var ds []string
		for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
			if w.days[d] {
				ds = append(ds, strings.ToLower(d.String()[:3]))
			}
		}
		b.WriteString(strings.Join(ds, ",") + " ")
	}
	b.WriteString(w.Location().String())
	return b.String()
}

// Schedule is a digest schedule: every Every from the time of day At, in a
// time zone. A daily schedule (Every 24h) keeps to the wall clock: 09:00
// stays 09:00 across a change of hour, so that day's interval is 23 or 25
// hours.
type Schedule struct {
	Every time.Duration
	At    time.Duration
	Loc   *time.Location
}

// ParseEvery reads "24h" or "24h@09:00" (the time of day in the
// campaign's zone).
func ParseEvery(v string) (every time.Duration, at time.Duration, hasAt bool, err error) {
	d, c, hasAt := strings.Cut(strings.TrimSpace(v), "@")
	every, err = time.ParseDuration(d)
	if err != nil || every < time.Minute {
		return 0, 0, false, fmt.Errorf(`digest_every: %q must be a duration of at least 1m, optionally with a time of day: "24h@09:00"`, v)
	}
	if hasAt {
		if at, err = clock(c); err != nil || at >= 24*time.Hour {
			return 0, 0, false, fmt.Errorf(`digest_every: the time of day after @ in %q must be HH:MM, such as 24h@09:00`, v)
		}
	}
	return every, at, hasAt, nil
}

func (s Schedule) loc() *time.Location {
	if s.Loc == nil {
		return time.UTC
	}
	return s.Loc
}

// Last is the latest time of the schedule at or before now.
func (s Schedule) Last(now time.Time) time.Time {
	every := s.Every
	if every <= 0 {
		every = 24 * time.Hour
	}
	loc := s.loc()
	if every == 24*time.Hour {
		t := at(now, s.At, loc)
		if t.After(now) {
			t = at(now.In(loc).AddDate(0, 0, -1), s.At, loc)
		}
		return t
	}
	// Other periods run from At after midnight of 1 January 1970 in the
	// zone, in whole multiples of every.
	anchor := time.Date(1970, 1, 1, 0, 0, 0, 0, loc).Add(s.At)
	k := now.Sub(anchor) / every
	if now.Before(anchor.Add(k * every)) {
		k--
	}
	return anchor.Add(k * every)
}

// Next is the first time of the schedule after now.
func (s Schedule) Next(now time.Time) time.Time {
	if s.Every <= 0 || s.Every == 24*time.Hour {
		loc := s.loc()
		t := at(now, s.At, loc)
		if !t.After(now) {
			t = at(now.In(loc).AddDate(0, 0, 1), s.At, loc)
		}
		return t
	}
	return s.Last(now).Add(s.Every)
}
