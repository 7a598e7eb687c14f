package delivery

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/sendlog"
)

// Options tune the sender. Zero values take the defaults in parentheses.
type Options struct {
	Workers   int     // concurrent sends (8)
	Rate      float64 // messages per second across the process; 0 = no limit
	HourlyCap int     // most messages per target in a sliding hour; 0 = no cap
	// DomainCap is the most emails in a sliding hour to all targets at
	// one receiving domain, across campaigns (OUTCRY_DOMAIN_HOURLY_CAP; 0 =
	// no cap); DomainOf says a target's domain ("": not counted). See
	// domain.go.
	DomainCap int
	DomainOf  func(target string) string
	// NoSpread sends a target's allowance as soon as the cap allows
	// (OUTCRY_SPREAD=off); by default it is spread across the hour (spread.go).
	NoSpread     bool
	MaxAttempts  int           // attempts before a temporary failure becomes final (8)
	BatchSize    int           // most messages claimed at once (256)
	Lease        time.Duration // how long this sender's lease lasts unless renewed; renewed every fifth of it (10s)
	PollInterval time.Duration // how often to look for due messages when idle (500ms)
	FlushEvery   time.Duration // how long outcomes wait to be written in a batch (10ms)
	Grace        time.Duration // how long in-flight sends may run after shutdown starts (10s)
	BackoffBase  time.Duration // first retry delay (1s)
	BackoffMax   time.Duration // longest retry delay (5m)
	Logger       *slog.Logger
	// Observer, when set, is told of every send attempt: how long the
	// provider took and its class: "ok", or the ErrorKind of its failure
	// ("temporary", "permanent", …). Used for metrics.
	Observer func(took time.Duration, class string)
	// RecordPause, when set, stores a pause the sender decides itself (the
	// provider refused our credentials), so that every instance sees it
	// and a resume on any of them lifts it.
	RecordPause func(ctx context.Context, reason string) error
	// SignBusy, when set, reports whether letters are in the sign path now
	// (supporters waiting for an answer): the sender then yields (YieldBatch).
	SignBusy func() bool
	// Held, when set, holds sending while it reports true (live sending
	// that is not ready: package golive). Messages stay queued meanwhile.
	Held func() (bool, string)
	// Pushback, when set, is the back-off of targets whose receiving
	// servers push back (issue 28 §4, package pushback): at each renewal
	// the leading sender has it apply the steps due at now under
	// HourlyCap, and it returns each pushed-back target's level; the cap
	// checks then use that target's reduced allowance. See pushback.go.
	Pushback func(ctx context.Context, cap int, now time.Time) (map[string]int, []pushback.Step, error)
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, 8)
	def(&o.MaxAttempts, 8)
	def(&o.BatchSize, 256)
	defd(&o.Lease, 10*time.Second)
	defd(&o.PollInterval, 500*time.Millisecond)
	defd(&o.FlushEvery, 10*time.Millisecond)
	defd(&o.Grace, 10*time.Second)
	defd(&o.BackoffBase, time.Second)
	defd(&o.BackoffMax, 5*time.Minute)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Sender claims due messages from a Queue in batches, sends them through a
// Mailer at a shared rate, and records every outcome.
type Sender struct {
	q       Queue
	mailer  Mailer
	opt     Options
	limiter *rate.Limiter
	rateMu  sync.Mutex // one worker at a time holds a slot of the limiter (pace.go)
	log     *slog.Logger
	now     func() time.Time

	wake chan struct{}

	mu        sync.Mutex
	paused    bool
	pauseWhy  string
	resumed   chan struct{} // closed on resume
	holdUntil time.Time     // after a 429: no sends before this
	hold429   int           // consecutive 429s without a reset header
	window    map[string][]time.Time
	claimed   map[string]int         // per target: claimed and not yet finished
	single    map[string]time.Time   // per target: when a single letter was last claimed (drip)
	turn      map[string]time.Time   // per target: when its next email may be claimed (spread)
	domains   map[string][]time.Time // per receiving domain: its sends in the past hour (DomainCap)
	dclaimed  map[string]int         // per receiving domain: claimed and not yet finished
	levels    map[string]int         // per pushed-back target: its back-off level (Options.Pushback)
	renewedAt time.Time              // when the last renewal that succeeded was asked for
	leading   bool                   // this sender is the one that sends (Lease.Leader at the last renewal)

	// The organizer's pause as stored, at the last renewal (followPause).
	pauseSeen   bool
	storedPause bool
	storedWhy   string

	inflight atomic.Int64
	sent     atomic.Int64
	failed   atomic.Int64
}

// NewSender builds a sender; call Run to start it.
func NewSender(q Queue, m Mailer, opt Options) *Sender {
	opt.defaults()
	limit := rate.Inf
	if opt.Rate > 0 {
		limit = rate.Limit(opt.Rate)
	}
	s := &Sender{
		q: q, mailer: m, opt: opt, log: opt.Logger, now: time.Now,
		// A burst of one keeps the achieved rate at the limit in every second.
		limiter:  rate.NewLimiter(limit, 1),
		wake:     make(chan struct{}, 1),
		resumed:  make(chan struct{}),
		window:   map[string][]time.Time{},
		claimed:  map[string]int{},
		single:   map[string]time.Time{},
		turn:     map[string]time.Time{},
		domains:  map[string][]time.Time{},
		dclaimed: map[string]int{},
		levels:   map[string]int{},
	}
	return s
}

// Mailer returns the mailer the sender uses.
func (s *Sender) Mailer() Mailer { return s.mailer }

// Notify tells the sender that new messages are queued.
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Pause stops sending until Resume; queued messages stay queued.
func (s *Sender) Pause(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.paused {
		s.paused = true
		s.resumed = make(chan struct{})
	}
	s.pauseWhy = reason
}

// Resume lets sending continue after Pause.
func (s *Sender) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		s.paused = false
		s.pauseWhy = ""
		close(s.resumed)
	}
	s.Notify()
}

// Paused reports whether sending is paused, and why.
func (s *Sender) Paused() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused, s.pauseWhy
}

// held reports whether Options.Held holds sending now.
func (s *Sender) held() bool {
	if s.opt.Held == nil {
		return false
	}
	h, _ := s.opt.Held()
	return h
}

// Held reports whether sending is held (Options.Held), and why.
func (s *Sender) Held() (bool, string) {
	if s.opt.Held == nil {
		return false, ""
	}
	return s.opt.Held()
}

// Stats are the sender's counters since start.
type Stats struct {
	InFlight int64
	Sent     int64
	Failed   int64
	Rate     float64
}

// Stats returns the sender's counters.
func (s *Sender) Stats() Stats {
	return Stats{InFlight: s.inflight.Load(), Sent: s.sent.Load(), Failed: s.failed.Load(), Rate: s.opt.Rate}
}

type job struct {
	m Message
}

// Run sends until ctx is cancelled, then lets in-flight sends finish within
// the grace period, returns unsent claims to the queue and records every
// outcome before returning.
func (s *Sender) Run(ctx context.Context) error {
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(s.opt.Grace, cancelSends)
	})
	defer stop()

	// The lease is renewed before the first claim, and the renewal returns
	// to the queue what a crashed sender held (its lease ran out).
	s.renew(ctx)
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renewLoop(renewCtx)
	}()

	jobs := make(chan job, s.opt.BatchSize)
	results := make(chan Outcome, s.opt.BatchSize)
	var workers sync.WaitGroup
	for range s.opt.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				o := Outcome{ID: j.m.ID, Status: sendlog.Queued} // shutting down: give the claim back unsent
				if ctx.Err() == nil {
					o = s.send(sendCtx, j)
				}
				o.Digest = j.m.DigestID != 0
				s.finished(j.m.TargetID)
				results <- o
			}
		}()
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s.record(results)
	}()

	s.claimLoop(ctx, jobs)
	close(jobs)
	workers.Wait()
	close(results)
	<-finished
	stopRenew()
	<-renewed
	relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.q.Release(relCtx); err != nil {
		s.log.Error("sender: release lease", "err", err)
	}
	return nil
}

// renewLoop renews the lease every fifth of its length until ctx ends.
func (s *Sender) renewLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.Lease / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.renew(ctx)
		}
	}
}

func (s *Sender) renew(ctx context.Context) {
	// The lease the store grants runs from a moment after this one: a
	// sender counting from here stops before it, however slow the answer.
	asked := s.now()
	l, err := s.q.Renew(ctx, s.opt.Lease)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sender: renew lease", "err", err)
		}
		return
	}
	s.mu.Lock()
	wasLeading, first := s.leading, s.renewedAt.IsZero()
	s.mu.Unlock()
	if l.Leader {
		// The back-off's due steps, and each target's allowance now
		// (before a takeover spaces the spread by it).
		s.stepPushback(ctx)
	}
	switch {
	case l.Leader && !wasLeading:
		// Taking over (or starting, or restarting): the cap windows
		// start from what every sender sent in the past hour, and the
		// drip's spacing from each target's last email.
		recent, err := s.q.Recent(ctx, s.now().Add(-time.Hour))
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("sender: read recent sends; not sending until it works", "err", err)
			}
			return
		}
		s.mu.Lock()
		s.window, s.single, s.turn = map[string][]time.Time{}, map[string]time.Time{}, map[string]time.Time{}
		s.domains = map[string][]time.Time{}
		for id, ts := range recent {
			s.window[id] = ts
			if d := s.domainOf(id); d != "" {
				s.domains[d] = append(s.domains[d], ts...)
			}
			if len(ts) > 0 {
				s.single[id] = ts[len(ts)-1]
				s.turn[id] = ts[len(ts)-1].Add(s.minGap(id))
			}
		}
		for d, ts := range s.domains {
			slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
			s.domains[d] = ts
		}
		s.mu.Unlock()
		if first {
			s.log.Info("sender: this instance sends (one sender for every instance sharing the database)")
		} else {
			s.log.Info("sender: this instance sends now (the previous sender stopped, or stopped renewing its lease)")
		}
	case !l.Leader && (wasLeading || first):
		s.log.Info("sender: another instance sends; this one stands by and takes over if it stops")
	}
	s.mu.Lock()
	s.renewedAt = asked
	s.leading = l.Leader
	s.mu.Unlock()
	s.followPause(l)
	if l.Requeued > 0 {
		s.log.Info("sender: messages of a stopped sender back in the queue", "count", l.Requeued)
	}
	if l.Leader {
		s.Notify()
	}
}

// followPause puts a change of the stored pause in force: a pause or
// resume made on any instance reaches the one that sends at its next
// renewal. A stored pause is in force from the first renewal; a pause set
// here and not stored stays until Resume.
func (s *Sender) followPause(l Lease) {
	s.mu.Lock()
	changed := !s.pauseSeen || l.Paused != s.storedPause || l.PauseReason != s.storedWhy
	first := !s.pauseSeen
	s.pauseSeen, s.storedPause, s.storedWhy = true, l.Paused, l.PauseReason
	s.mu.Unlock()
	switch {
	case !changed:
	case l.Paused:
		s.Pause(l.PauseReason)
	case !first:
		s.Resume()
	}
}

// Leading reports whether this sender is the one that sends.
func (s *Sender) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// leaseHeld reports whether this sender surely still leads: after failed
// renewals another sender may take over and take its messages back.
func (s *Sender) leaseHeld() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading && s.now().Sub(s.renewedAt) < s.opt.Lease*4/5
}

// claimLoop claims batches while there is room and sending is not paused.
func (s *Sender) claimLoop(ctx context.Context, jobs chan<- job) {
	batch := s.batchSize()
	for ctx.Err() == nil {
		s.mu.Lock()
		paused, resumed := s.paused, s.resumed
		s.mu.Unlock()
		if paused {
			select {
			case <-ctx.Done():
			case <-resumed:
			}
			continue
		}
		if s.held() {
			s.wait(ctx, s.opt.PollInterval)
			continue
		}
		if !s.leaseHeld() {
			// Another instance sends, or the lease is not renewed:
			// stand by until a renewal says otherwise.
			s.wait(ctx, s.opt.PollInterval)
			continue
		}
		yielding := s.opt.SignBusy != nil && s.opt.SignBusy()
		limit := batch
		if yielding {
			limit = min(batch, YieldBatch)
		}
		room := int64(limit) - s.inflight.Load()
		if room < int64(max(1, limit/4)) {
			s.wait(ctx, s.opt.FlushEvery)
			continue
		}
		msgs, err := s.q.Claim(ctx, int(room), s.targetRoom)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("sender: claim failed", "err", err)
			}
			s.wait(ctx, s.opt.PollInterval)
			continue
		}
		if len(msgs) == 0 {
			// Nothing due that may be sent now. New letters wake the
			// loop, but never more often than this, so a crowd writing
			// to capped targets causes no storm of claims.
			s.sleep(ctx, emptyClaimGap)
			s.wait(ctx, s.opt.PollInterval)
			continue
		}
		s.inflight.Add(int64(len(msgs)))
		s.noteClaimed(msgs)
		for _, m := range msgs {
			jobs <- job{m: m}
		}
		if yielding {
			s.sleep(ctx, yieldGap) // not s.wait: a new letter must not cut the gap short
		}
	}
}

// The sign path comes first (issue 29). The sender and the sign path share
// the CPU and, on SQLite, the one writer connection: every claim and every
// write of outcomes is a transaction that the letters' group commit waits
// behind, and every send is CPU the sign path does not get. So while letters
// are in the sign path (Options.SignBusy: supporters are waiting for an
// answer), the sender yields: it keeps at most YieldBatch messages claimed
// and unfinished, and waits yieldGap after each claim, which holds it to
// about YieldBatch/yieldGap = 640 messages/s in short transactions. As
// soon as no letter is in the sign path it claims full batches again with
// no gap (the drain, ≥ 5,000 messages/s measured), so a backlog built up
// while letters arrive drains after them: it cannot fall behind for good
// unless letters keep the sign path busy without a break for as long as
// the backlog grows. SignBusy is read before each claim, so it follows a
// crowd within one claim.
const (
	YieldBatch = 32 // exported for the tests
	yieldGap   = 50 * time.Millisecond
)

// noteClaimed counts claimed messages against their targets' room until
// they are finished, and remembers when each target was given a single
// letter (the drip's spacing).
func (s *Sender) noteClaimed(msgs []Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, m := range msgs {
		s.claimed[m.TargetID]++
		if d := s.domainOf(m.TargetID); d != "" {
			s.dclaimed[d]++
		}
		if m.DigestID == 0 {
			s.single[m.TargetID] = now
		}
		if s.spreading() {
			s.turn[m.TargetID] = now.Add(s.gap(m.TargetID))
		}
	}
}

// finished counts a claimed message as no longer in flight. With the
// allowance spread, the target's next turn is counted from here too, so
// that a send delayed by the rate limiter does not come close to the next.
func (s *Sender) finished(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claimed[target]--
	if d := s.domainOf(target); d != "" {
		s.dclaimed[d]--
	}
	if s.spreading() {
		if next := s.now().Add(s.minGap(target)); next.After(s.turn[target]) {
			s.turn[target] = next
		}
	}
}

// emptyClaimGap is the least time between a claim that found nothing and
// the next one.
const emptyClaimGap = 20 * time.Millisecond

// targetRoom is how many more emails to a target may be claimed now: its
// hourly cap less what it received in the past hour and what is claimed
// for it and not yet finished (a digest is one email), with when it was
// last given a single letter (the drip's spacing).
func (s *Sender) targetRoom(target string) Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	r := Room{Slots: math.MaxInt32, LastSingle: s.single[target], Now: now}
	if s.opt.HourlyCap > 0 {
		w := prune(s.window[target], now)
		s.window[target] = w
		r.Slots = s.allowance(target) - len(w) - s.claimed[target]
	}
	if d := s.domainOf(target); d != "" {
		w := prune(s.domains[d], now)
		s.domains[d] = w
		r.Domain, r.DomainSlots = d, s.opt.DomainCap-len(w)-s.dclaimed[d]
	}
	if s.spreading() {
		// One email at a time, and none before the target's turn.
		r.Pace = 1
		if now.Before(s.turn[target]) || s.claimed[target] > 0 {
			r.Slots = 0
		}
	}
	return r
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// batchSize claims about two seconds' worth of messages when a rate is set,
// so that a claim never waits long in memory.
func (s *Sender) batchSize() int {
	if s.opt.Rate <= 0 {
		return s.opt.BatchSize
	}
	return max(1, min(s.opt.BatchSize, int(math.Ceil(2*s.opt.Rate))))
}

func (s *Sender) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.wake:
	case <-t.C:
	}
}

// send makes one attempt and says what became of it.
func (s *Sender) send(ctx context.Context, j job) Outcome {
	m := j.m
	back := Outcome{ID: m.ID, Status: sendlog.Queued} // returned to the queue, no attempt made

	if until, ok := s.reserve(m.TargetID); !ok {
		back.Next = until
		return back
	}
	// The pause and the 429 hold are checked again once the rate limiter's
	// slot is ours, immediately before the request: a 401 or a 429 may have
	// come back to another worker while this one waited for the slot.
	for {
		if paused, _ := s.Paused(); paused || s.held() {
			s.unreserve(m.TargetID)
			return back
		}
		if err := s.waitHold(ctx); err != nil {
			s.unreserve(m.TargetID)
			return back
		}
		if err := s.pace(ctx); err != nil {
			s.unreserve(m.TargetID)
			return back
		}
		if s.clearToSend() {
			break
		}
	}
	if !s.leaseHeld() {
		s.unreserve(m.TargetID)
		return back
	}
	started := s.now()
	providerID, err := s.mailer.Send(ctx, m)
	if s.opt.Observer != nil {
		class := "ok"
		if err != nil {
			class = Classify(err).Kind.String()
		}
		s.opt.Observer(s.now().Sub(started), class)
	}
	if err == nil {
		s.mu.Lock()
		s.hold429 = 0
		s.mu.Unlock()
		s.sent.Add(1)
		return Outcome{ID: m.ID, Status: sendlog.Sent, Attempted: true, ProviderID: providerID}
	}
	s.unreserve(m.TargetID)
	se := Classify(err)
	attempts := m.Attempts + 1
	switch se.Kind {
	case Permanent:
		if se.TooLarge && m.DigestID != 0 && m.Letters > 1 {
			// Refused for its size: split in two, each half sent again at
			// once, down to single letters (issue 27 item 5).
			s.log.Warn("sender: digest refused for its size, split in two", "digest", m.DigestID, "letters", m.Letters, "err", se.Msg)
			return Outcome{ID: m.ID, Status: sendlog.Queued, Attempted: true, Error: se.Error(), Split: true}
		}
		s.failed.Add(1)
		s.log.Warn("sender: message refused by provider", "message", m.ID, "target", m.TargetID, "err", se.Msg)
		return Outcome{ID: m.ID, Status: sendlog.Failed, Attempted: true, Error: se.Error()}
	case Unauthorized:
		s.log.Error("sender: PROVIDER REFUSED OUR CREDENTIALS, ALL SENDING PAUSED: check SENDGRID_API_KEY and the sender identity OUTCRY_FROM_EMAIL, then resume from the console or restart",
			"status", se.Status, "err", se.Msg)
		why := "provider refused the credentials (HTTP " + strconv.Itoa(se.Status) + "): " + se.Msg
		s.recordPause(why)
		s.Pause(why)
		return Outcome{ID: m.ID, Status: sendlog.Queued, Error: se.Error()}
	case RateLimited:
		until := s.hold(se.RetryAt)
		s.log.Warn("sender: provider rate limit, slowing down", "until", until)
		return Outcome{ID: m.ID, Status: sendlog.Queued, Error: se.Error(), Next: until}
	default:
		if attempts >= s.opt.MaxAttempts {
			s.failed.Add(1)
			return Outcome{ID: m.ID, Status: sendlog.Failed, Attempted: true, Error: se.Error()}
		}
		return Outcome{ID: m.ID, Status: sendlog.Queued, Attempted: true, Error: se.Error(), Next: s.now().Add(s.backoff(attempts))}
	}
}

// recordPause stores a pause the sender decided, before it takes effect
// here: a renewal in between would otherwise find no stored pause and
// resume.
func (s *Sender) recordPause(why string) {
	if s.opt.RecordPause == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.opt.RecordPause(ctx, why); err != nil {
		s.log.Error("sender: store the pause (it holds on this instance only)", "err", err)
	}
}

// backoff is the delay before retry n (1-based): base·2^(n-1), capped, ±20 % jitter.
func (s *Sender) backoff(n int) time.Duration {
	d := s.opt.BackoffBase << min(n-1, 20)
	if d > s.opt.BackoffMax || d <= 0 {
		d = s.opt.BackoffMax
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// maxHold bounds how long a 429 holds sending, and so the due time stored
// for the refused message.
const maxHold = time.Hour

// hold stops every worker from sending until the provider's reset time, or
// for an escalating pause when it gave none. A reset more than maxHold away
// (a value in milliseconds reads as the year 58888) is logged and treated
// as none; no hold lasts longer than maxHold.
func (s *Sender) hold(reset time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	until := reset
	if d := reset.Sub(now); !reset.IsZero() && (d > maxHold || d < -maxHold) {
		s.log.Warn("sender: provider's X-RateLimit-Reset makes no sense, backing off instead",
			"reset", reset.Unix(), "from_now", d.Round(time.Second).String())
		until = time.Time{}
	}
	if until.IsZero() || until.Before(now) {
		s.hold429++
		until = now.Add(s.backoff(s.hold429))
	}
	if limit := now.Add(maxHold); until.After(limit) {
		until = limit
	}
	if until.After(s.holdUntil) {
		s.holdUntil = until
	}
	return s.holdUntil
}

// clearToSend reports whether a request may start now: sending is not
// paused and no 429 hold is in effect.
func (s *Sender) clearToSend() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.paused && !s.now().Before(s.holdUntil)
}

func (s *Sender) waitHold(ctx context.Context) error {
	for {
		s.mu.Lock()
		d := s.holdUntil.Sub(s.now())
		s.mu.Unlock()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// reserve takes a slot in the target's hourly window, or says when one frees.
func (s *Sender) reserve(target string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	d := s.domainOf(target)
	var dw []time.Time
	if d != "" {
		dw = prune(s.domains[d], now)
		s.domains[d] = dw
		if len(dw) >= s.opt.DomainCap {
			return dw[0].Add(time.Hour), false
		}
	}
	if s.opt.HourlyCap > 0 {
		w := prune(s.window[target], now)
		if len(w) >= s.allowance(target) {
			s.window[target] = w
			return w[0].Add(time.Hour), false
		}
		s.window[target] = append(w, now)
	}
	if d != "" {
		s.domains[d] = append(dw, now)
	}
	return time.Time{}, true
}

func (s *Sender) unreserve(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.window[target]; s.opt.HourlyCap > 0 && len(w) > 0 {
		s.window[target] = w[:len(w)-1]
	}
	if d := s.domainOf(target); d != "" {
		if w := s.domains[d]; len(w) > 0 {
			s.domains[d] = w[:len(w)-1]
		}
	}
}

func prune(w []time.Time, now time.Time) []time.Time {
	cut := 0
	for cut < len(w) && now.Sub(w[cut]) >= time.Hour {
		cut++
	}
	return w[cut:]
}

// record writes outcomes in batches until results is closed.
func (s *Sender) record(results <-chan Outcome) {
	buf := make([]Outcome, 0, s.opt.BatchSize)
	flush := func() {
		if len(buf) == 0 {
			return
		}
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := s.q.Finish(ctx, buf)
			cancel()
			if err == nil {
				break
			}
			// The messages stay leased and are retaken after the lease if
			// this never succeeds; never drop them silently.
			s.log.Error("sender: recording outcomes failed", "err", err, "count", len(buf), "attempt", attempt+1)
			if attempt >= 5 {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
		s.inflight.Add(-int64(len(buf)))
		buf = buf[:0]
		s.Notify()
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case o, ok := <-results:
			if !ok {
				flush()
				return
			}
			if len(buf) == 0 {
				timer.Reset(s.opt.FlushEvery)
			}
			buf = append(buf, o)
			if len(buf) >= cap(buf) {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}
