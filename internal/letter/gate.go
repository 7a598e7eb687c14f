package letter

import (
	"errors"
	"sync/atomic"
	"time"
)

// ErrOverloaded says a letter was refused because OUTCRY_MAX_PENDING
// letters are already in the sign path: nothing of it was stored. The web
// layer answers 503 with Retry-After; the form comes back as typed.
var ErrOverloaded = errors.New("letter: too many letters are arriving at once; nothing was stored")

// DefaultMaxPending is OUTCRY_MAX_PENDING's default: how many letters may be
// in the sign path at once (being checked, or waiting for their group commit
// and its answer). Derived in docs/scaling.md from measured costs:
//
//   - time: the group commit writes about 2,000 letters/s on a 2-core
//     machine (measured, closed loop), so 1,000 letters waiting are answered
//     within about half a second, well inside a browser's patience and the
//     2 s the issue asks; a longer queue only makes every answer later.
//   - memory: one letter in the sign path holds its request (at most the
//     form's body limit, typically 1–3 KB), a goroutine and its connection's
//     buffers: about 30 KB of RSS each at saturation (measured), so 1,000
//     of them are about 30 MB, a small share of a 1 GB VPS.
const DefaultMaxPending = 1000

// Gate bounds the letters in the sign path. A letter takes a slot before it
// is read and checked (Enter) and gives it back once it has been answered
// (Leave); when every slot is taken the letter is refused at once (shed),
// before anything is stored, rather than kept waiting.
type Gate struct {
	slots chan struct{}
	shed  atomic.Int64
	last  atomic.Int64 // when a letter last entered, Unix ns
}

// busyFor is how long after a letter arrives the sign path counts as busy
// (Busy). Letters arriving at 1,000 a second are each in the path for a
// millisecond or two: between two of them it is empty most of the time,
// and a sender that looked only at Pending took full batches in those
// gaps (2,300 messages/s beside the letters, p99 37 ms).
const busyFor = 250 * time.Millisecond

// NewGate is a gate of max slots (max < 1: DefaultMaxPending).
func NewGate(max int) *Gate {
	if max < 1 {
		max = DefaultMaxPending
	}
	return &Gate{slots: make(chan struct{}, max)}
}

// Enter takes a slot, or returns false and counts the letter as shed.
func (g *Gate) Enter() bool {
	g.last.Store(time.Now().UnixNano())
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		g.shed.Add(1)
		return false
	}
}

// Leave gives back a slot taken by Enter.
func (g *Gate) Leave() { <-g.slots }

// Pending is how many letters are in the sign path now.
func (g *Gate) Pending() int { return len(g.slots) }

// Busy reports whether letters are arriving: one is in the sign path now,
// or one arrived within busyFor (the sender then yields:
// delivery.Options.SignBusy).
func (g *Gate) Busy() bool {
	return g.Pending() > 0 || time.Since(time.Unix(0, g.last.Load())) < busyFor
}

// Max is the bound (OUTCRY_MAX_PENDING).
func (g *Gate) Max() int { return cap(g.slots) }

// Shed is how many letters were refused since start.
func (g *Gate) Shed() int64 { return g.shed.Load() }
