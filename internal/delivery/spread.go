package delivery

import (
	"math/rand/v2"
	"time"
)

// Spreading a target's hourly allowance across the hour (issue 28): with
// a cap of n an hour, a target is given one email at a time, and the next
// one no sooner than spreadOver/n later, give or take spreadJitter. So the
// cap's n emails leave across about 55 minutes, never as a burst: the
// shortest gap is 0.75 × 55 min / n (82.5 s at the default cap of 30, so
// at most 4 emails in any 5 minutes). The sliding-hour cap itself is
// counted as before and stays exact; the spread only delays.

const (
	spreadOver   = 55 * time.Minute
	spreadJitter = 0.25
)

// spreading reports whether the allowance is spread: it is by default,
// when there is a cap.
func (s *Sender) spreading() bool { return !s.opt.NoSpread && s.opt.HourlyCap > 0 }

// minGap is the shortest time between two emails to a target: its
// allowance (the cap, or less under back-off) spread the same way. Call
// with s.mu held.
func (s *Sender) minGap(target string) time.Duration {
	if !s.spreading() {
		return 0
	}
	return time.Duration(float64(spreadOver) / float64(s.allowance(target)) * (1 - spreadJitter))
}

// gap is the time until a target's next turn: spreadOver / allowance ±
// jitter. Call with s.mu held.
func (s *Sender) gap(target string) time.Duration {
	j := 1 - spreadJitter + 2*spreadJitter*rand.Float64()
	return time.Duration(float64(spreadOver) / float64(s.allowance(target)) * j)
}
