// Package pushback is the back-off of a target whose receiving server
// pushes back (issue 28 §4): a "deferred" event or a 4xx soft bounce
// (sendlog.Pushback). It holds the rule only — pure functions over one
// target's state — shared by the store, which keeps the state and applies
// the steps in the database (so they survive restarts and every instance
// sees them), the sender, whose cap checks use the allowance, and the
// console and /metrics, which show it.
//
// The rule, with cap the target's hourly cap (OUTCRY_TARGET_HOURLY_CAP):
//
//   - The allowance at level k is cap halved k times (integer halves), and
//     never below 1: at the default 30, 30 → 15 → 7 → 3 → 1.
//   - Down: a push-back halves the allowance at once, then at most once an
//     hour: each hour (counted from the last halving) in which push-backs
//     came halves it again, down to the floor of 1.
//   - Up: after an hour with no push-back and no step, it climbs back one
//     level (the way it came down, doubling: 1 → 3 → 7 → 15 → 30), one
//     level an hour.
//   - Flag: after FlagAfter at the floor (push-backs kept coming every
//     hour) the target is flagged for the organizer, once per stay at the
//     floor.
package pushback

import "time"

// Hour is how often the allowance may step: down once an hour while
// push-backs come, up once an hour without them.
const Hour = time.Hour

// FlagAfter is how long a target stays at the floor before it is flagged.
const FlagAfter = 24 * time.Hour

// Allowance is the hourly allowance at level halvings below cap: cap
// halved level times, at least 1. A cap of 0 or less (no cap) gives 0: no
// limit, nothing to halve.
func Allowance(cap, level int) int {
	if cap <= 0 {
		return 0
	}
	level = min(max(level, 0), Floor(cap))
	return max(1, cap>>level)
}

// Floor is the level at which the allowance is 1: 4 for a cap of 30, 0
// for a cap of 1 or none.
func Floor(cap int) int {
	n := 0
	for cap > 1 {
		cap >>= 1
		n++
	}
	return n
}

// State is one target's back-off as the store keeps it.
type State struct {
	Target string
	Level  int // halvings in force; 0: the full cap
	// LastPushback is when the latest push-back was received, Pushbacks
	// how many came since the last step and Reason what the latest said.
	LastPushback time.Time
	Pushbacks    int
	Reason       string
	SteppedAt    time.Time // when Level last changed (or the flag was raised); zero: never
	DownAt       time.Time // when Level last went down
	FloorSince   time.Time // when it reached the floor; zero: not at it
	Flagged      bool      // flagged for this stay at the floor
}

// Kind is what a step did.
type Kind string

// The steps.
const (
	Down Kind = "down" // the allowance halved
	Up   Kind = "up"   // it climbed back one level
	Flag Kind = "flag" // 24 hours at the floor: flagged for the organizer
)

// Step is one change of a target's back-off.
type Step struct {
	Target    string
	At        time.Time
	Kind      Kind
	From, To  int // levels
	Allowance int // the allowance after the step
	Reason    string
}

// pushed reports whether a push-back came after the last step.
func (s State) pushed() bool {
	return !s.LastPushback.IsZero() && s.LastPushback.After(s.SteppedAt)
}

// Next is the step due at now for a target in state s under cap, if any,
// and the state after it. At most one step is taken per call; a caller
// that was away for hours calls it again until it takes none. With no cap
// (0), or a cap of 1, there is nothing to halve and no step is due.
func Next(s State, cap int, now time.Time) (State, Step, bool) {
	floor := Floor(cap)
	if floor == 0 {
		return s, Step{}, false
	}
	s.Level = min(max(s.Level, 0), floor) // the cap may have been lowered
	from := s.Level
	step := func(k Kind) (State, Step, bool) {
		s.SteppedAt, s.Pushbacks = now, 0
		return s, Step{Target: s.Target, At: now, Kind: k, From: from, To: s.Level, Allowance: Allowance(cap, s.Level), Reason: s.Reason}, true
	}
	quiet := s.SteppedAt
	if s.LastPushback.After(quiet) {
		quiet = s.LastPushback
	}
	switch {
	case s.pushed() && s.Level < floor && (s.DownAt.IsZero() || now.Sub(s.DownAt) >= Hour):
		s.Level++
		s.DownAt = now
		if s.Level == floor {
			s.FloorSince = now
		}
		return step(Down)
	case s.Level > 0 && !quiet.IsZero() && now.Sub(quiet) >= Hour:
		s.Level--
		s.FloorSince, s.Flagged = time.Time{}, false
		return step(Up)
	case s.Level == floor && !s.Flagged && !s.FloorSince.IsZero() && now.Sub(s.FloorSince) >= FlagAfter:
		// A flag is not a change of level: SteppedAt stays, and the hour
		// without push-backs that lets it climb counts as before.
		s.Flagged = true
		return s, Step{Target: s.Target, At: now, Kind: Flag, From: from, To: s.Level, Allowance: Allowance(cap, s.Level), Reason: s.Reason}, true
	}
	return s, Step{}, false
}
