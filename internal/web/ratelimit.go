package web

import (
	"hash/maphash"
	"sync"
	"time"
)

// clientLimits is the per-client token bucket behind the submission and
// look-up limits (echo's middleware.RateLimiterStore).
//
// It replaces echo's memory store, which kept a *rate.Limiter per client
// and, every ExpiresIn, walked the whole map under its one lock to forget
// the stale ones. In a viral hour every request comes from a new address:
// 360,000 clients were held, the walk held every letter for up to 259 ms
// every 3 minutes, and the garbage collector traced every limiter at each
// cycle. Here a client is a hash of its address and its bucket two numbers,
// so the maps hold no pointers (the collector skips them), and forgetting
// costs nothing: every period the current map becomes the previous one and
// the previous one is dropped whole. A client is remembered for at least
// one period after its last request and at most two; one forgotten has a
// full bucket, as it would have had anyway once a period is longer than
// the time the bucket takes to fill.
type clientLimits struct {
	rate   float64 // tokens a second
	burst  float64
	period time.Duration
	now    func() time.Time
	seed   maphash.Seed

	mu        sync.Mutex
	cur, prev map[uint64]bucket
	rotated   time.Time
}

type bucket struct {
	tokens float64
	at     int64 // Unix nanoseconds of the last refill
}

func newClientLimits(perSecond float64, burst int, period time.Duration) *clientLimits {
	return &clientLimits{rate: perSecond, burst: float64(burst), period: period, now: time.Now,
		seed: maphash.MakeSeed(), cur: map[uint64]bucket{}, prev: map[uint64]bucket{}}
}

// Allow takes a token from the client's bucket, if it has one.
func (l *clientLimits) Allow(client string) (bool, error) {
	k := maphash.String(l.seed, client)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.rotated.IsZero() {
		l.rotated = now
	}
	if now.Sub(l.rotated) >= l.period {
		l.prev, l.cur = l.cur, make(map[uint64]bucket, len(l.cur))
		l.rotated = now
	}
	b, ok := l.cur[k]
	if !ok {
		if b, ok = l.prev[k]; ok {
			delete(l.prev, k)
		} else {
			b = bucket{tokens: l.burst, at: now.UnixNano()}
		}
	}
	if elapsed := float64(now.UnixNano()-b.at) / float64(time.Second); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.at = now.UnixNano()
	}
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	l.cur[k] = b
	return allowed, nil
}
