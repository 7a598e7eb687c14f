package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	outcry "github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/webhook"
)

// Tests of the delivery modes (issue 12) on a simulated clock: the store,
// the sender and the outbox read the same clock, which the test moves; the
// sender runs one turn at a time (delivery.Step), so nothing depends on
// real time.

// simClock is a clock the test moves; safe for the store's goroutines.
type simClock struct{ ms atomic.Int64 }

func (c *simClock) now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *simClock) set(t time.Time)         { c.ms.Store(t.UnixMilli()) }
func (c *simClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// sent is one email the recording mailer took.
type sent struct {
	at time.Time
	m  delivery.Message
}

// recorder is a Mailer that records each email at the simulated time.
type recorder struct {
	clock *simClock
	mu    sync.Mutex
	mails []sent
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Send(_ context.Context, m delivery.Message) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mails = append(r.mails, sent{at: r.clock.now(), m: m})
	return "pid" + m.PublicID, nil
}

const (
	simCampaign = "c"
	simTitle    = "Save the bees"
	simSubject  = "Please save the bees"
	simBody     = "Dear decision-maker,\n\nPlease ban the pesticides that kill bees."
)

type sim struct {
	t         *testing.T
	clock     *simClock
	st        *store.Store
	mail      *recorder
	policy    *outbox.Policy
	sender    *delivery.Sender
	spread    bool // OUTCRY_SPREAD=on (set before newSender)
	domainCap int  // OUTCRY_DOMAIN_HOURLY_CAP (set before newSender; 0 = none)
}

func newSim(t *testing.T, start time.Time, cap int, p outbox.Policy) *sim {
	t.Helper()
	s := &sim{t: t, clock: &simClock{}, st: newStore(t)}
	s.clock.set(start)
	s.st.SetClock(s.clock.now)
	s.mail = &recorder{clock: s.clock}
	dr, err := outbox.NewDigestRenderer(outcry.Templates(""))
	if err != nil {
		t.Fatal(err)
	}
	p.Cap, p.Digests = cap, dr
	if p.Max == 0 {
		p.Max = 500
	}
	if p.After == 0 {
		p.After = time.Hour
	}
	p.Campaign = func(slug string) (outbox.CampaignInfo, bool) {
		return outbox.CampaignInfo{Title: simTitle, Subject: simSubject, Body: simBody, Organizer: "Bee Friends",
			ReplyTo: "team@bees.example"}, slug == simCampaign
	}
	s.policy = &p
	s.sender = s.newSender(s.mail)
	return s
}

// newSender is a sender over a fresh outbox (a new process: its own lease).
func (s *sim) newSender(m delivery.Mailer) *delivery.Sender {
	ob := newOutbox(s.t, s.st)
	ob.Delivery = s.policy
	// These tests count on capped emails leaving as soon as the cap
	// allows (OUTCRY_SPREAD=off) unless they turn the spread on.
	snd := delivery.NewSender(ob, m, delivery.Options{HourlyCap: s.policy.Cap, NoSpread: !s.spread,
		DomainCap: s.domainCap, DomainOf: func(id string) string {
			t, _ := testTargets.Current().ByID(id)
			return delivery.Domain(t.Email)
		},
		Pushback: s.st.StepPushback, // the back-off, kept in the store (issue 28 §4)
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil))})
	delivery.SetClock(snd, s.clock.now)
	return snd
}

// write stores n letters to targets, one in ten with the supporter's own
// words, all at the current simulated time.
func (s *sim) write(n int, targets ...string) {
	s.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body := simBody
				if i%10 == 0 {
					body = fmt.Sprintf("My own words, number %d: the bees in my garden are gone.", i)
				}
				if _, _, err := s.st.WriteLetter(context.Background(), store.NewSupporter{Campaign: simCampaign,
					Email: fmt.Sprintf("w%d@example.org", i), FirstName: "Writer", LastName: fmt.Sprint(i),
					Postcode: fmt.Sprintf("P%05d", i), Subject: simSubject, Body: body}, targets); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		s.t.Fatal(err)
	}
}

// runUntil moves the clock by step and lets the sender send what it may,
// until end.
func (s *sim) runUntil(end time.Time, step time.Duration) {
	s.t.Helper()
	ctx := context.Background()
	for {
		for {
			n, err := delivery.Step(ctx, s.sender)
			if err != nil {
				s.t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if !s.clock.now().Before(end) {
			return
		}
		s.clock.advance(step)
	}
}

// longestWait is the longest time a letter to target waited to be sent;
// the test fails if one was not sent.
func (s *sim) longestWait(target string) time.Duration {
	s.t.Helper()
	rows, err := s.st.Messages(context.Background(), store.MessageFilter{Target: target})
	if err != nil {
		s.t.Fatal(err)
	}
	var worst time.Duration
	for _, r := range rows {
		if r.SentAt == nil {
			s.t.Fatalf("message %d to %s not sent by %s", r.ID, target, s.clock.now().Format(time.TimeOnly))
		}
		worst = max(worst, r.SentAt.Sub(r.QueuedAt))
	}
	return worst
}

// check asserts that every letter is in exactly one email to each of its
// targets, that no target got more than cap emails in any sliding hour,
// and returns per target the time of its last email and how many were
// digests.
func (s *sim) check(letters int, targets []string, cap int) (last time.Time, digests, singles int) {
	s.t.Helper()
	ctx := context.Background()
	seen := map[int64]int{}
	perTarget := map[string][]time.Time{}
	resent := map[string]bool{}
	for _, ml := range s.mail.mails {
		perTarget[ml.m.TargetID] = append(perTarget[ml.m.TargetID], ml.at)
		if ml.at.After(last) {
			last = ml.at
		}
		// The same email sent again (after a crash) is one email with
		// the same letters; the test that crashes counts those.
		if resent[ml.m.PublicID] {
			continue
		}
		resent[ml.m.PublicID] = true
		if ml.m.DigestID == 0 {
			seen[ml.m.ID]++
			singles++
			continue
		}
		digests++
		ids, err := s.st.DigestMessages(ctx, ml.m.DigestID)
		if err != nil {
			s.t.Fatal(err)
		}
		if len(ids) != ml.m.Letters {
			s.t.Fatalf("digest %d: email says %d letters, the send log %d", ml.m.DigestID, ml.m.Letters, len(ids))
		}
		for _, id := range ids {
			seen[id]++
		}
	}
	if len(seen) != letters*len(targets) {
		s.t.Fatalf("%d messages reached their target, want %d", len(seen), letters*len(targets))
	}
	for id, n := range seen {
		if n != 1 {
			s.t.Fatalf("message %d was in %d emails", id, n)
		}
	}
	for id, ts := range perTarget {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		for i := range ts {
			j := i
			for j < len(ts) && ts[j].Sub(ts[i]) < time.Hour {
				j++
			}
			if j-i > cap {
				s.t.Fatalf("target %s got %d emails in the hour from %s (cap %d)", id, j-i, ts[i].Format(time.TimeOnly), cap)
			}
		}
	}
	c := counts(s.t, s.st)
	if c["sent"] != letters*len(targets) {
		s.t.Fatalf("send log: %v, want %d sent", c, letters*len(targets))
	}
	return last, digests, singles
}

var simStart = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

// The run: 10,000 letters to 4 targets, cap 30 an hour, overflow.
func TestOverflowDeliversTenThousandLettersWithinDigestAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 letters: not in -short")
	}
	targets := []string{"t1", "t2", "t3", "t4"}
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Overflow, After: time.Hour, Max: 500})
	s.write(10_000, targets...)
	s.runUntil(simStart.Add(time.Hour+5*time.Minute), time.Minute)
	last, digests, singles := s.check(10_000, targets, 30)
	took := last.Sub(simStart)
	t.Logf("10,000 letters, 4 targets, cap 30/h, overflow: %d single emails, %d digests, last email after %s",
		singles, digests, took)
	if took > time.Hour+5*time.Minute {
		t.Fatalf("the last letter left after %s, want at most DIGEST_AFTER + 5 min", took)
	}
	if singles != 4*29 {
		t.Errorf("single emails: %d, want 29 per target (one slot of the hour kept for digests)", singles)
	}
}

// Digest mode: nothing goes before the schedule's time (09:00), everything
// goes then, in digests only.
func TestDigestModeSendsOnItsSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 letters: not in -short")
	}
	targets := []string{"t1", "t2", "t3", "t4"}
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Digest, Every: 24 * time.Hour, At: 9 * time.Hour, Max: 500})
	s.write(10_000, targets...)
	s.runUntil(simStart.Add(110*time.Minute), 5*time.Minute)
	if len(s.mail.mails) != 0 {
		t.Fatalf("%d emails before 09:00", len(s.mail.mails))
	}
	s.runUntil(simStart.Add(2*time.Hour+5*time.Minute), time.Minute)
	last, digests, singles := s.check(10_000, targets, 30)
	t.Logf("10,000 letters, 4 targets, cap 30/h, digest daily at 09:00: %d digests, last at %s", digests, last.Format(time.TimeOnly))
	if singles != 0 || digests != 4*20 {
		t.Fatalf("singles %d digests %d, want 0 and 80", singles, digests)
	}
	if want := simStart.Add(2 * time.Hour); last.After(want.Add(5 * time.Minute)) {
		t.Fatalf("last digest at %s, want by 09:05", last)
	}
}

// A sender killed with digests in flight: the next sender sends each of
// them once more, whole; no letter is lost or put in a second digest.
func TestRestartDuringDigestLosesNothing(t *testing.T) {
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Digest, Every: time.Hour, Max: 500})
	s.write(1_200, "t1")
	s.clock.advance(time.Hour)
	ctx := context.Background()

	// The first process claims the digests and sends one of them, then
	// dies (kill -9: no outcome recorded, its lease runs out).
	dead := newOutbox(t, s.st)
	dead.Delivery = s.policy
	claimed, err := dead.Claim(ctx, 100, func(string) delivery.Room { return delivery.Room{Slots: 30, Now: s.clock.now()} })
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 3 {
		t.Fatalf("claimed %d digests, want 3 (500 + 500 + 200)", len(claimed))
	}
	if _, err := s.mail.Send(ctx, claimed[0]); err != nil {
		t.Fatal(err)
	}

	// Another process starts.
	s.clock.advance(time.Minute)
	s.sender = s.newSender(s.mail)
	s.runUntil(s.clock.now().Add(10*time.Minute), time.Minute)

	s.check(1_200, []string{"t1"}, 30)
	times := map[int64]int{}
	for _, ml := range s.mail.mails {
		times[ml.m.DigestID]++
	}
	for _, d := range claimed {
		if want := 1; d.DigestID != claimed[0].DigestID && times[d.DigestID] != want {
			t.Errorf("digest %d sent %d times, want once", d.DigestID, times[d.DigestID])
		}
	}
	if times[claimed[0].DigestID] != 2 {
		t.Errorf("the digest in flight was sent %d times, want twice (once more after the restart)", times[claimed[0].DigestID])
	}
	if len(times) != 3 {
		t.Errorf("%d digests sent, want the same 3", len(times))
	}
}

// Drip: single letters to a target at least one hour / cap apart.
func TestDripSpacesSingleLetters(t *testing.T) {
	s := newSim(t, simStart, 6, outbox.Policy{Mode: delivery.Individual, Drip: true})
	s.write(12, "t1")
	s.runUntil(simStart.Add(3*time.Hour), time.Minute)
	s.check(12, []string{"t1"}, 6)
	var prev time.Time
	for i, ml := range s.mail.mails {
		if i > 0 && ml.at.Sub(prev) < 10*time.Minute {
			t.Fatalf("emails %d and %d were %s apart, want at least 10m (1h / cap 6)", i-1, i, ml.at.Sub(prev))
		}
		prev = ml.at
	}
	if got := s.mail.mails[len(s.mail.mails)-1].at.Sub(simStart); got != 110*time.Minute {
		t.Errorf("the 12th letter left after %s, want 1h50m", got)
	}
}

// A digest that is due is not held back by the drip's spacing.
func TestDueDigestIsNotHeldByDrip(t *testing.T) {
	s := newSim(t, simStart, 6, outbox.Policy{Mode: delivery.Overflow, Drip: true, After: 30 * time.Minute})
	s.write(40, "t1")
	s.runUntil(simStart.Add(31*time.Minute), time.Minute)
	var singles, digests []time.Time
	for _, ml := range s.mail.mails {
		if ml.m.DigestID != 0 {
			digests = append(digests, ml.at)
		} else {
			singles = append(singles, ml.at)
		}
	}
	if len(singles) != 3 || len(digests) != 1 {
		t.Fatalf("singles at %v, digests at %v; want 3 singles (00, 10, 20 min) and a digest at 30 min", singles, digests)
	}
	if gap := digests[0].Sub(singles[2]); gap != 10*time.Minute {
		t.Logf("digest %s after the last single", gap)
	}
	s.check(40, []string{"t1"}, 6)
}

// SendGrid's events on a digest apply to every letter in it.
func TestWebhookEventsOnADigest(t *testing.T) {
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Digest, Every: time.Hour})
	s.write(5, "t1", "t2")
	s.runUntil(simStart.Add(time.Hour), time.Hour)
	if len(s.mail.mails) != 2 {
		t.Fatalf("%d emails, want one digest per target", len(s.mail.mails))
	}
	var d1, d2 delivery.Message
	for _, ml := range s.mail.mails {
		if ml.m.TargetID == "t1" {
			d1 = ml.m
		} else {
			d2 = ml.m
		}
	}
	ctx := context.Background()
	res, err := s.st.ApplyEvents(ctx, []webhook.Event{
		{Event: "delivered", SGEventID: "e1", OutcryID: d1.PublicID, Timestamp: simStart.Unix()},
		{Event: "delivered", SGEventID: "e1", OutcryID: d1.PublicID, Timestamp: simStart.Unix()},
		// Matched by the provider's id alone, with SendGrid's suffix.
		{Event: "bounce", Type: "bounce", SGEventID: "e2", SGMessageID: "pid" + d2.PublicID + ".filter0001", Timestamp: simStart.Unix()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 2 || res.Duplicates != 1 || res.Moved != 10 {
		t.Fatalf("result %+v, want 2 stored, 1 duplicate, 10 letters moved", res)
	}
	for _, c := range []struct {
		target, status string
	}{{"t1", "delivered"}, {"t2", "bounced"}} {
		rows, err := s.st.Messages(ctx, store.MessageFilter{Target: c.target})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Status != c.status {
				t.Errorf("%s: message %d is %s, want %s", c.target, r.ID, r.Status, c.status)
			}
			// The send log says which digest carried it.
			if want := map[string]int64{"t1": d1.DigestID, "t2": d2.DigestID}[c.target]; r.DigestID != want || want == 0 {
				t.Errorf("%s: message %d has digest %d, want %d", c.target, r.ID, r.DigestID, want)
			}
			if d, err := s.st.Message(ctx, r.ID); err != nil || d.DigestID != r.DigestID {
				t.Errorf("message page of %d: digest %v (%v)", r.ID, d, err)
			}
		}
	}
	if ts, _ := s.st.TargetStates(ctx); !ts["t2"].NeedsAttention {
		t.Error("a hard bounce on a digest did not flag its target")
	}
	// A late "delivered" does not move bounced letters back.
	if _, err := s.st.ApplyEvents(ctx, []webhook.Event{{Event: "delivered", SGEventID: "e3", OutcryID: d2.PublicID}}); err != nil {
		t.Fatal(err)
	}
	if c := counts(t, s.st); c["bounced"] != 5 || c["delivered"] != 5 {
		t.Fatalf("counts %v, want 5 bounced and 5 delivered", c)
	}
}

// A flood that lasts: 25 letters a minute for three hours to one target,
// cap 30, overflow. No letter waits much more than DIGEST_AFTER.
func TestOverflowUnderASustainedFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("4,500 letters: not in -short")
	}
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Overflow, After: time.Hour, Max: 500})
	ctx := context.Background()
	n := 0
	for range 180 {
		for range 25 {
			if _, _, err := s.st.WriteLetter(ctx, store.NewSupporter{Campaign: simCampaign, Email: fmt.Sprintf("f%d@example.org", n),
				FirstName: "F", LastName: fmt.Sprint(n), Subject: simSubject, Body: simBody}, []string{"t1"}); err != nil {
				t.Fatal(err)
			}
			n++
		}
		s.runUntil(s.clock.now(), time.Minute)
		s.clock.advance(time.Minute)
	}
	s.runUntil(simStart.Add(5*time.Hour), time.Minute)
	worst := s.longestWait("t1")
	_, digests, singles := s.check(n, []string{"t1"}, 30)
	t.Logf("4,500 letters over 3 h to one target, cap 30, overflow: %d single emails, %d digests, longest wait %s", singles, digests, worst)
	if worst > time.Hour+5*time.Minute {
		t.Fatalf("a letter waited %s, want at most DIGEST_AFTER + 5 min", worst)
	}
}

// A digest goes through the real SendGrid mailer like a letter: the
// campaign's name and reply address, the opaque id only as metadata, no
// supporter's address anywhere.
func TestDigestThroughSendGrid(t *testing.T) {
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Digest, Every: time.Hour})
	fake := newFake(t)
	s.sender = s.newSender(delivery.NewSendGrid(delivery.SendGridConfig{APIKey: "SG.test", BaseURL: fake.URL(),
		FromEmail: "campaign@outcry.example", FromName: "outcry"}))
	s.write(12, "t1")
	s.runUntil(simStart.Add(time.Hour), time.Hour)
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake received %d requests, want one digest", len(reqs))
	}
	m := reqs[0].Mail
	if m.From.Email != "campaign@outcry.example" || m.From.Name != "Bee Friends via outcry" || m.ReplyTo.Email != "team@bees.example" {
		t.Errorf("from %+v reply-to %+v", m.From, m.ReplyTo)
	}
	p := m.Personalizations[0]
	if p.To[0].Email != "t1@example.com" || !strings.HasPrefix(m.Subject+p.Subject, "12 people wrote to you about "+simTitle) {
		t.Errorf("to %+v subject %q/%q", p.To, m.Subject, p.Subject)
	}
	args := map[string]string{}
	for k, v := range m.CustomArgs {
		args[k] = v
	}
	for k, v := range p.CustomArgs {
		args[k] = v
	}
	if len(args) != 1 || !strings.HasPrefix(args["outcry_id"], "d") {
		t.Errorf("custom args %v, want only the digest's opaque id", args)
	}
	if body := string(reqs[0].Body); strings.Contains(body, "example.org") {
		t.Errorf("a supporter's address is in the request: %s", body)
	}
	if c := counts(t, s.st); c["sent"] != 12 {
		t.Fatalf("counts %v", c)
	}
}

// Without a backlog no slot is kept back: 30 letters and a cap of 30 go at
// once, as 30 single emails.
func TestOverflowWithoutBacklogUsesTheWholeCap(t *testing.T) {
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Overflow, After: time.Hour})
	s.write(30, "t1")
	s.runUntil(simStart, time.Minute)
	_, digests, singles := s.check(30, []string{"t1"}, 30)
	if singles != 30 || digests != 0 {
		t.Fatalf("%d singles and %d digests, want 30 singles at once", singles, digests)
	}
}

// With OUTCRY_DIGEST_AFTER under an hour, letters that arrive one by one
// (never a backlog when each is looked at) must still leave a slot for the
// digest: at cap 2 and 10 s, five letters in a row once sent two alone
// and left three waiting for the hour to free a slot.
func TestOverflowShortDigestAfterKeepsASlot(t *testing.T) {
	s := newSim(t, simStart, 2, outbox.Policy{Mode: delivery.Overflow, After: 10 * time.Second, Max: 500})
	ctx := context.Background()
	for i := range 5 {
		if _, _, err := s.st.WriteLetter(ctx, store.NewSupporter{Campaign: simCampaign, Email: fmt.Sprintf("s%d@example.org", i),
			FirstName: "S", LastName: fmt.Sprint(i), Subject: simSubject, Body: simBody}, []string{"t1"}); err != nil {
			t.Fatal(err)
		}
		s.runUntil(s.clock.now().Add(time.Second), time.Second)
	}
	s.runUntil(s.clock.now().Add(2*time.Minute), time.Second)
	worst := s.longestWait("t1")
	_, digests, singles := s.check(5, []string{"t1"}, 2)
	t.Logf("5 letters one a second, cap 2, DIGEST_AFTER 10 s: %d single, %d digest, longest wait %s", singles, digests, worst)
	if worst > 10*time.Second+time.Minute {
		t.Fatalf("a letter waited %s, want DIGEST_AFTER plus a little", worst)
	}
}

// Issue 27 item 5: SendGrid answers 413 to a digest of 20 letters that is
// over its size: the digest is split in two and each half tried again, down
// to letters that fit, and every letter arrives; nothing is failed.
func TestDigestRefusedForItsSizeIsSplit(t *testing.T) {
	s := newSim(t, simStart, 1000, outbox.Policy{Mode: delivery.Digest, Every: time.Hour})
	fake := newFake(t)
	s.sender = s.newSender(delivery.NewSendGrid(delivery.SendGridConfig{APIKey: "SG.test", BaseURL: fake.URL(),
		FromEmail: "campaign@outcry.example", FromName: "outcry"}))
	for i := range 20 { // each in the writer's own words, 500 bytes of them
		if _, _, err := s.st.WriteLetter(context.Background(), store.NewSupporter{Campaign: simCampaign,
			Email: fmt.Sprintf("w%d@example.org", i), FirstName: "Writer", LastName: fmt.Sprint(i),
			Subject: simSubject, Body: fmt.Sprintf("Letter %d: ", i) + strings.Repeat("bees ", 100)}, []string{"t1"}); err != nil {
			t.Fatal(err)
		}
	}
	fake.SetMaxBytes(3000) // a digest of a few letters fits; one of 20 does not
	s.runUntil(simStart.Add(time.Hour), time.Hour)
	var refused, letters, seven int
	subject := regexp.MustCompile(`^(\d+) people wrote to you`)
	for _, r := range fake.Requests() {
		if len(r.Body) > 3000 {
			refused++
			continue
		}
		if strings.Contains(string(r.Body), "Letter 7: ") {
			seven++
		}
		m := subject.FindStringSubmatch(r.Mail.Subject + r.Mail.Personalizations[0].Subject)
		if m == nil {
			t.Fatalf("not a digest: %q", r.Mail.Subject)
		}
		n, _ := strconv.Atoi(m[1])
		letters += n
	}
	if refused < 3 || letters != 20 || seven != 1 {
		t.Fatalf("%d requests refused for their size, %d letters accepted, letter 7 in %d; want some refused, 20 accepted, letter 7 in 1", refused, letters, seven)
	}
	if c := counts(t, s.st); c["sent"] != 20 || c["failed"] != 0 {
		t.Fatalf("send log %v, want 20 sent and none failed", c)
	}
}

// A single letter that is still too large alone fails, and a 400 that names
// a field fails the digest as before (it is about the field, not the size).
func TestDigestRefusedAlone(t *testing.T) {
	s := newSim(t, simStart, 1000, outbox.Policy{Mode: delivery.Digest, Every: time.Hour})
	fake := newFake(t)
	s.sender = s.newSender(delivery.NewSendGrid(delivery.SendGridConfig{APIKey: "SG.test", BaseURL: fake.URL(),
		FromEmail: "campaign@outcry.example", FromName: "outcry"}))
	s.write(4, "t1")
	fake.SetMaxBytes(100) // nothing fits
	s.runUntil(simStart.Add(time.Hour), time.Hour)
	if c := counts(t, s.st); c["failed"] != 4 {
		t.Fatalf("send log %v, want each letter failed alone", c)
	}
	if n := fake.Count(); n != 1+2+4 {
		t.Fatalf("%d requests, want 7 (4, then 2 and 2, then 1 each)", n)
	}
	s2 := newSim(t, simStart, 1000, outbox.Policy{Mode: delivery.Digest, Every: time.Hour})
	fake2 := newFake(t)
	s2.sender = s2.newSender(delivery.NewSendGrid(delivery.SendGridConfig{APIKey: "SG.test", BaseURL: fake2.URL(),
		FromEmail: "campaign@outcry.example", FromName: "outcry"}))
	s2.write(4, "t1")
	fake2.SetDefault(sgfake.Response{Status: 400, Body: sgfake.ErrorBody("The from address does not match a verified Sender Identity.", "from")})
	s2.runUntil(simStart.Add(time.Hour), time.Hour)
	if c := counts(t, s2.st); c["failed"] != 4 || fake2.Count() != 1 {
		t.Fatalf("a 400 naming a field: %v after %d requests, want 4 failed after 1", c, fake2.Count())
	}
}

// A target who receives a version of the letter (campaign.yaml's
// letter.versions) gets digests that show that version once, with the
// names of those who sent it: the letters are grouped against the letter
// they were given, not the campaign's main one (issue 24 with issue 21).
func TestDigestGroupsAgainstTheTargetsVersion(t *testing.T) {
	const versionSubject, versionBody = "Thank you for saving the bees", "Thank you for voting to ban the pesticides that kill bees. Please keep it up."
	s := newSim(t, simStart, 30, outbox.Policy{Mode: delivery.Digest, Every: 24 * time.Hour, At: 9 * time.Hour, Max: 500})
	main := s.policy.Campaign
	s.policy.Campaign = func(slug string) (outbox.CampaignInfo, bool) {
		info, ok := main(slug)
		info.LetterFor = func(id string) (string, string) {
			if id == "t2" {
				return versionSubject, versionBody
			}
			return simSubject, simBody
		}
		return info, ok
	}
	for i := range 20 {
		if _, _, err := s.st.WriteLetter(context.Background(), store.NewSupporter{Campaign: simCampaign,
			Email: fmt.Sprintf("v%d@example.org", i), FirstName: "Writer", LastName: fmt.Sprint(i),
			Subject: versionSubject, Body: versionBody}, []string{"t2"}); err != nil {
			t.Fatal(err)
		}
	}
	s.runUntil(simStart.Add(2*time.Hour+5*time.Minute), time.Minute)
	if len(s.mail.mails) != 1 {
		t.Fatalf("%d emails, want one digest to t2", len(s.mail.mails))
	}
	body := s.mail.mails[0].m.Body
	if got := strings.Count(body, versionBody); got != 1 {
		t.Errorf("the version appears %d times in the digest, want once with its 20 signers:\n%s", got, body)
	}
	if !strings.Contains(body, "20 signed the campaign's letter") || !strings.Contains(body, "Subject: "+versionSubject) {
		t.Errorf("the digest does not group the letters under the version:\n%s", body)
	}
}
