package outbox

import (
	"fmt"
	"math"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
)

// Estimate is when the letters waiting for one target will all have gone,
// under the delivery policy, assuming the target's hour starts empty: the
// console dashboard's "all letters delivered within about 1 h: 29
// individually, the rest in digests".
type Estimate struct {
	Mode    delivery.Mode
	Letters int           // letters waiting
	Within  time.Duration // all of them sent within this
	Singles int           // sent as their own email
	Digests int           // digests carrying the rest
	// Hours is the campaign's sending window when it has one ("" when it
	// sends at any time): Within counts time inside it. Opens is when it
	// next opens, when it is closed now ("Monday 08:00 Europe/London").
	Hours string
	Opens string
	// Held: sending is paused or held, so nothing goes until it resumes;
	// the rest counts from then. DigestFrom (overflow mode) is when the
	// letters waiting turn into digests if sending is still held then.
	Held       bool
	DigestFrom time.Time
	digestsAt  int // the digests they would then make
}

// String says it in words for an organizer.
func (e Estimate) String() string {
	if e.Letters == 0 {
		return "no letters waiting"
	}
	if e.Held {
		s := "none until sending resumes; then " + e.sending()
		if !e.DigestFrom.IsZero() {
			s += fmt.Sprintf(", if it resumes before %s (after that, in %s)", e.DigestFrom.UTC().Format("15:04 UTC"), inDigests(e.digestsAt))
		}
		return s
	}
	return e.sending()
}

// sending says how the letters go once they may.
func (e Estimate) sending() string {
	within := "about " + roundDuration(e.Within)
	opens := ""
	if e.Hours != "" {
		within += fmt.Sprintf(" of sending hours (%s)", e.Hours)
	}
	if e.Opens != "" {
		opens = "; next sending window opens " + e.Opens
	}
	switch {
	case e.Digests == 0:
		return fmt.Sprintf("all letters delivered within %s, each as its own email", within) + opens
	case e.Singles == 0:
		return fmt.Sprintf("all letters delivered within %s, in %s", within, inDigests(e.Digests)) + opens
	}
	return fmt.Sprintf("all letters delivered within %s: %d individually, the rest in %s", within, e.Singles, inDigests(e.Digests)) + opens
}

func inDigests(n int) string {
	if n == 1 {
		return "1 digest"
	}
	return fmt.Sprintf("%d digests", n)
}

func roundDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(math.Ceil(d.Hours()-0.05)))
	}
	return fmt.Sprintf("%d days", int(math.Ceil(d.Hours()/24-0.05)))
}

// Estimate says how the n letters waiting for one target of a campaign
// leave, at rate emails a second across the process (0: no limit), from now.
func (p *Policy) Estimate(campaign string, n int, rate float64, now time.Time) Estimate {
	mode, drip := p.For(campaign)
	e := Estimate{Mode: mode, Letters: n}
	if n == 0 {
		return e
	}
	if w := p.Window(campaign); !w.Always() {
		e.Hours, e.Opens = w.String(), w.Describe(now)
	}
	max := max(1, p.Max)
	slotsAfter := func(k int) time.Duration { return capWait(k, p.Cap) }
	byRate := func(k int) time.Duration { return rateWait(k, rate) }
	switch mode {
	case delivery.Digest:
		e.Digests = (n + max - 1) / max
		sch := p.Schedule(campaign)
		e.Within = sch.Next(now).Sub(now) + slotsAfter(e.Digests)
		if last := sch.Last(now); !last.After(now) && now.Sub(last) < time.Minute {
			e.Within = slotsAfter(e.Digests)
		}
	case delivery.Overflow:
		singles := n
		if p.Cap > 0 {
			singles = min(n, p.Cap-p.Reserve())
		}
		if drip && p.Cap > 0 {
			singles = min(singles, int(p.After/p.DripGap())+1)
		}
		e.Singles = singles
		if rest := n - singles; rest > 0 {
			e.Digests = (rest + max - 1) / max
			e.Within = p.After + slotsAfter(e.Digests)
		} else {
			e.Within = byRate(singles)
			if drip && p.Cap > 0 {
				e.Within = time.Duration(singles-1) * p.DripGap()
			}
		}
	default:
		e.Singles = n
		e.Within, _ = drainTime(n, n, rate, p.Cap)
		if drip && p.Cap > 0 {
			e.Within = time.Duration(n-1) * p.DripGap()
		}
	}
	return e
}

// capWait is how long the k-th email (1-based) to one target waits for a
// slot of its hourly cap (0: no cap), the hour starting empty: a target
// receives at most hourlyCap emails in any sliding hour, so k emails need
// (k-1)/hourlyCap full hours of waiting.
func capWait(k, hourlyCap int) time.Duration {
	if hourlyCap <= 0 {
		return 0
	}
	return time.Duration((k-1)/hourlyCap) * time.Hour
}

// rateWait is how long k emails take at rate emails a second (0: no limit).
func rateWait(k int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(k) / rate * float64(time.Second))
}

// drainTime is how long total emails, fullest of them to one target, take
// to leave one by one: the longer of all of them at the rate and the
// fullest target's at its cap. ok is false when nothing limits the rate.
func drainTime(total, fullest int, rate float64, hourlyCap int) (d time.Duration, ok bool) {
	if total == 0 {
		return 0, true
	}
	return max(rateWait(total, rate), capWait(fullest, hourlyCap)), rate > 0 || hourlyCap > 0
}

// Drain says how long the whole queue takes to empty, every letter as its
// own email, at the process rate (emails a second, 0 = unlimited) and the
// per-target hourly cap (0 = no cap): the console's drain estimate. ok is
// false when nothing limits the rate. Estimate is the same reckoning for
// one target under the campaign's delivery policy.
func Drain(queuedPerTarget map[string]int, ratePerSec float64, hourlyCap int) (time.Duration, bool) {
	total, fullest := 0, 0
	for _, n := range queuedPerTarget {
		total += n
		fullest = max(fullest, n)
	}
	return drainTime(total, fullest, ratePerSec, hourlyCap)
}

// NextDigest says when the next digest of h's letters is due and how many
// letters it will carry (the console's per-target figure); ok is false
// when none is coming (nothing waits, or the campaign sends every letter
// alone). Read the heads with store.QueueHeads.
func (p *Policy) NextDigest(h store.QueueHead, now time.Time) (at time.Time, letters int, ok bool) {
	if h.Queued == 0 {
		return time.Time{}, 0, false
	}
	letters = min(h.Queued, max(1, p.Max))
	switch mode, _ := p.For(h.Campaign); mode {
	case delivery.Overflow:
		at = h.QueuedAt.Add(p.After)
	case delivery.Digest:
		sch := p.Schedule(h.Campaign)
		at = sch.Next(now)
		if last := sch.Last(now); !h.QueuedAt.After(last) {
			at = now // due now: waiting for a slot
		}
	default:
		return time.Time{}, 0, false
	}
	if at.Before(now) {
		at = now
	}
	// Outside its sending hours the digest waits for the window.
	at = p.Window(h.Campaign).NextOpen(at)
	return at, letters, true
}

// TargetPlan is the dashboard's line for one target: how its waiting
// letters will go, and its next digest.
type TargetPlan struct {
	TargetID      string
	Estimate      Estimate  // the slowest of its campaigns
	NextDigestAt  time.Time // zero: none coming
	NextDigestFor int       // letters the next digest will carry
	// Held: sending is paused or held. NextDigestAt is then when the
	// letters become a digest if it still is (a digest goes only once
	// sending resumes); DigestDue says they already are one.
	Held      bool
	DigestDue bool
}

// Plan summarizes, per target, the queue heads read with
// store.QueueHeads: the console's "all letters delivered within about 1 h:
// 29 individually, the rest in 20 digests" and "next digest at 10:00, 500
// letters". held says sending is paused or held now: nothing goes until it
// resumes, and letters that wait long enough meanwhile go in digests. The
// estimate and the next digest say the same thing: in overflow mode a
// digest is named only when letters will still be waiting when it falls
// due (issue 26: "each as its own email" beside "next digest 14:30").
func (p *Policy) Plan(heads []store.QueueHead, rate float64, now time.Time, held bool) []TargetPlan {
	var out []TargetPlan
	idx := map[string]int{}
	for _, h := range heads {
		i, ok := idx[h.TargetID]
		if !ok {
			i = len(out)
			idx[h.TargetID] = i
			out = append(out, TargetPlan{TargetID: h.TargetID, Held: held})
		}
		tp := &out[i]
		e := p.Estimate(h.Campaign, h.Queued, rate, now)
		e.Held = held && e.Letters > 0
		at, n, digest := p.NextDigest(h, now)
		if mode, _ := p.For(h.Campaign); mode == delivery.Overflow && h.Queued > 0 {
			max := max(1, p.Max)
			aged := h.Digests > 0 || now.Sub(h.QueuedAt) >= p.After
			switch {
			case aged:
				// The oldest letter has waited After: everything waiting
				// goes in digests.
				e.Singles, e.Digests = 0, (h.Queued+max-1)/max
				e.Within = capWait(e.Digests, p.Cap)
			case held:
				e.DigestFrom, e.digestsAt = h.QueuedAt.Add(p.After), (h.Queued+max-1)/max
			case e.Digests == 0:
				digest = false // every letter leaves alone before a digest falls due
			}
		}
		if e.Within >= tp.Estimate.Within || tp.Estimate.Letters == 0 {
			tp.Estimate = e
		}
		if digest && (tp.NextDigestAt.IsZero() || at.Before(tp.NextDigestAt)) {
			tp.NextDigestAt, tp.NextDigestFor = at, n
			tp.DigestDue = !at.After(now)
		}
	}
	return out
}
