package outbox

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/sendwindow"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// How letters go out when a target's hourly cap cannot carry them all
// (issue 12). The sender keeps the cap window and says, per target, how
// many emails it may be given now (delivery.Room); the policy decides what
// those emails are:
//
//   - individual: one email per letter, held back by the cap as long as it
//     takes (the behaviour before digests).
//   - overflow: one email per letter, but single letters leave Reserve
//     slots of the cap free for digests — and, when a single sent now
//     would still count in the hour at which the next digests fall due,
//     as many slots as those digests need (one per Max letters waiting),
//     and none when every letter waiting fits in the free slots;
//     once the oldest letter waiting
//     for a (target, campaign) has waited After, the target's free slots
//     go to digests of everything waiting (Max letters each) until none is
//     left, and only then to single letters again. So every letter leaves
//     within After plus the time a slot takes to free (at most an hour,
//     in practice the moment the hour's first single letters age out).
//   - digest: letters go only in digests, at the schedule's times (Every,
//     from the time of day At): everything waiting then is sent, Max
//     letters per digest.
//
// Drip (per campaign) spaces single letters to a target at least one hour
// / cap apart; a digest that is due is not held back by it, and still takes
// a slot of the cap.
//
// The decision reads only the head of each (target, campaign) queue
// (store.QueueHeads: one index seek each), never the backlog.

// Delivery is one campaign's setting; zero fields take the process default.
type Delivery struct {
	Mode delivery.Mode
	Drip *bool
}

// CampaignInfo is what the policy and the digest need of a campaign.
type CampaignInfo struct {
	Title     string
	Subject   string // the default letter, which the digest shows once
	Body      string
	Organizer string // name shown as the digest's sender
	ReplyTo   string // the digest's Reply-To: the campaign's address
	Delivery  Delivery
	// Window is when its letters may go to targets (issue 28); the zero
	// Window is always open, in UTC.
	Window sendwindow.Window
	// Digest, when set, is the campaign's own digest schedule (its
	// digest_every); nil takes Every and At. Either way the time of day is
	// in Window's zone.
	Digest *sendwindow.Schedule
	// LetterFor, when set, is the letter a target receives when it is not
	// Subject and Body: a version of it for targets of some fields
	// (campaign.yaml's letter.versions). Its digests show that letter once
	// and group the letters near it.
	LetterFor func(targetID string) (subject, body string)
}

// Policy is how letters become emails: the process defaults and each
// campaign's setting.
type Policy struct {
	Cap     int           // OUTCRY_TARGET_HOURLY_CAP (0: none)
	Mode    delivery.Mode // OUTCRY_DELIVERY
	Drip    bool          // OUTCRY_DRIP
	After   time.Duration // OUTCRY_DIGEST_AFTER
	Every   time.Duration // OUTCRY_DIGEST_EVERY
	At      time.Duration // time of day (UTC) the digest schedule starts from
	Max     int           // OUTCRY_DIGEST_MAX
	ReplyTo string        // a digest's Reply-To when the campaign has no address (OUTCRY_FROM_EMAIL)
	// Campaign returns a campaign's setting and content.
	Campaign func(slug string) (CampaignInfo, bool)
	Digests  *DigestRenderer
	// ReadingURL, when set, gives a target's reading page for a campaign
	// ("" when its link is revoked): every digest links to it (issue 24).
	ReadingURL func(ctx context.Context, campaign, targetID string) (string, error)
}

// Reserve is how many slots of a target's hour single letters leave free
// for digests in overflow mode: one per digest time in an hour
// (ceil(1h / After)), at least 1 and at most cap − 1.
func (p *Policy) Reserve() int {
	if p.Cap <= 0 {
		return 0
	}
	r := 1
	if p.After > 0 {
		r = int(math.Ceil(float64(time.Hour) / float64(p.After)))
	}
	return max(1, min(r, p.Cap-1))
}

// DripGap is the least time between two single letters to a target with
// drip on: one hour / cap.
func (p *Policy) DripGap() time.Duration {
	if p.Cap <= 0 {
		return 0
	}
	return time.Hour / time.Duration(p.Cap)
}

// For returns the delivery in force for a campaign.
func (p *Policy) For(slug string) (mode delivery.Mode, drip bool) {
	mode, drip = p.Mode, p.Drip
	if p.Campaign == nil {
		return mode, drip
	}
	if c, ok := p.Campaign(slug); ok {
		if c.Delivery.Mode.Valid() {
			mode = c.Delivery.Mode
		}
		if c.Delivery.Drip != nil {
			drip = *c.Delivery.Drip
		}
	}
	if mode == "" {
		mode = delivery.Overflow
	}
	return mode, drip
}

// Window is when a campaign's letters may go to targets.
func (p *Policy) Window(slug string) sendwindow.Window {
	if p.Campaign == nil {
		return sendwindow.Window{}
	}
	c, _ := p.Campaign(slug)
	return c.Window
}

// Schedule is a campaign's digest schedule: its own digest_every, else
// OUTCRY_DIGEST_EVERY, the time of day in the campaign's time zone.
func (p *Policy) Schedule(slug string) sendwindow.Schedule {
	s := sendwindow.Schedule{Every: p.every(), At: p.At}
	if p.Campaign == nil {
		return s
	}
	c, _ := p.Campaign(slug)
	if c.Digest != nil {
		s = *c.Digest
		if s.Every <= 0 {
			s.Every = p.every()
		}
	}
	s.Loc = c.Window.Location()
	return s
}

func (p *Policy) every() time.Duration {
	if p.Every <= 0 {
		return 24 * time.Hour
	}
	return p.Every
}

// LastDigestTime is the latest time of the digest schedule at or before
// now: the times are At after midnight UTC of 1 January 1970 plus whole
// multiples of every (so daily at At with the default 24h).
func LastDigestTime(now time.Time, every, at time.Duration) time.Time {
	if every <= 0 {
		every = 24 * time.Hour
	}
	anchor := time.Unix(0, 0).UTC().Add(at)
	k := now.Sub(anchor) / every
	if now.Before(anchor.Add(k * every)) {
		k--
	}
	return anchor.Add(k * every)
}

// NextDigestTime is the first time of the schedule after now.
func NextDigestTime(now time.Time, every, at time.Duration) time.Time {
	if every <= 0 {
		every = 24 * time.Hour
	}
	return LastDigestTime(now, every, at).Add(every)
}

// digestDue reports whether the letters of h should go in a digest now.
func (p *Policy) digestDue(h store.QueueHead, now time.Time) bool {
	if h.Digests > 0 {
		return true // formed before and waiting: always sent
	}
	if !h.Due || h.Queued == 0 {
		return false
	}
	mode, _ := p.For(h.Campaign)
	switch mode {
	case delivery.Overflow:
		return now.Sub(h.QueuedAt) >= p.After
	case delivery.Digest:
		return !h.QueuedAt.After(p.Schedule(h.Campaign).Last(now))
	}
	return false
}

// claimWithPolicy is Claim under a delivery policy.
func (o *Outbox) claimWithPolicy(ctx context.Context, limit int, room func(string) delivery.Room) ([]delivery.Message, error) {
	p := o.Delivery
	all := o.targets.Current().All
	start := int(o.next.Add(1) % uint64(len(all)))
	rooms := map[string]delivery.Room{}
	byID := map[string]target.Target{}
	var ids []string
	for i := range all {
		t := all[(start+i)%len(all)]
		if r := room(t.ID); r.Slots > 0 {
			rooms[t.ID], byID[t.ID] = r, t
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	now := rooms[ids[0]].Now // the sender's clock
	if now.IsZero() {
		now = time.Now()
	}
	heads, err := o.store.QueueHeads(ctx, ids)
	if err != nil {
		return nil, err
	}
	// A campaign outside its sending hours sends nothing to targets:
	// its letters (and digests) wait, and are planned when it opens.
	open := map[string]bool{}
	perTarget := map[string][]store.QueueHead{}
	for _, h := range heads {
		ok, seen := open[h.Campaign]
		if !seen {
			ok = p.Window(h.Campaign).Open(now)
			open[h.Campaign] = ok
		}
		if ok {
			perTarget[h.TargetID] = append(perTarget[h.TargetID], h)
		}
	}
	var digests []store.DigestRequest
	var singles []store.ClaimTarget
	budget := limit
	// The domain cap: what the targets of one domain are given in this
	// claim stays within its room, counted as each target is planned.
	domains := domainBudget{}
	given := func(r delivery.Room, from, fromS int) {
		n := 0
		for _, d := range digests[from:] {
			n += d.Target.Limit
		}
		for _, c := range singles[fromS:] {
			n += c.Limit
		}
		domains.use(r, n)
	}
	for _, id := range ids {
		if budget <= 0 {
			break
		}
		r, t := rooms[id], byID[id]
		fromD, fromS := len(digests), len(singles)
		ct := store.ClaimTarget{ID: t.ID, Email: t.Email, Name: t.Name, Title: t.Title, Salutation: t.Salutation}
		slots := min(r.Slots, budget)
		if slots <= 0 || domains.left(r) <= 0 {
			continue
		}
		planned := r
		func() {
			defer func() { given(planned, fromD, fromS) }()
			// pace is how many emails the target may be given at this moment
			// (its allowance spread across the hour), apart from its slots.
			// The domain's room in this claim limits it the same way: the
			// overflow reserve is kept from the target's own cap.
			pace := domains.left(r)
			if r.Pace > 0 {
				pace = min(pace, r.Pace)
			}
			// Digests first: a target with a digest due gets no single
			// letter until every due digest has gone.
			due := false
			for _, h := range perTarget[id] {
				if !p.digestDue(h, r.Now) {
					continue
				}
				due = true
				if slots <= 0 || pace <= 0 {
					continue
				}
				n := h.Digests + int(math.Ceil(float64(h.Queued)/float64(max(1, p.Max))))
				n = min(max(n, 1), slots, pace)
				pace -= n
				c := ct
				c.Limit = n
				digests = append(digests, store.DigestRequest{Target: c, Campaign: h.Campaign, Max: p.Max})
				slots -= n
				budget -= n
			}
			if due {
				return
			}
			// Single letters, from the campaigns that send them.
			var plain, drip []string
			reserve, needed, waiting := 0, 0, 0
			var nextDue time.Time
			for _, h := range perTarget[id] {
				mode, d := p.For(h.Campaign)
				switch {
				case mode == delivery.Digest || h.Queued == 0:
					continue
				case mode == delivery.Overflow:
					waiting += h.Queued
					reserve = p.Reserve()
					needed += (h.Queued + max(1, p.Max) - 1) / max(1, p.Max)
					if due := h.QueuedAt.Add(p.After); !h.QueuedAt.IsZero() && (nextDue.IsZero() || due.Before(nextDue)) {
						nextDue = due
					}
				}
				if d && p.Cap > 0 {
					drip = append(drip, h.Campaign)
				} else {
					plain = append(plain, h.Campaign)
				}
			}
			// A single letter sent now holds its slot for an hour. If that
			// hour reaches past the time the next digests fall due, keep
			// the slots those digests will need (one per Max letters
			// waiting), so that they do not wait for the singles to age out.
			if reserve > 0 && !nextDue.IsZero() && r.Now.Add(time.Hour).After(nextDue) {
				reserve = max(reserve, min(needed, p.Cap-1))
			}
			// No backlog: every letter waiting fits in the slots free now,
			// so none will need a digest — if a letter written later falls
			// due after the singles sent now have left the hour, that is, if
			// After is an hour or more. With a shorter After the reserve
			// stays, or letters arriving one by one fill the hour and the
			// next ones wait for it instead of going in a digest.
			if waiting <= slots-len(drip) && len(drip) == 0 && p.After >= time.Hour {
				reserve = 0
			}
			slots -= reserve
			if len(drip) > 0 && slots > 0 && pace > 0 && (r.LastSingle.IsZero() || r.Now.Sub(r.LastSingle) >= p.DripGap()) {
				c := ct
				c.Limit, c.Campaigns = 1, drip
				singles = append(singles, c)
				slots--
				pace--
				budget--
			}
			if len(plain) > 0 && slots > 0 && pace > 0 {
				// The claim shares what is left of the budget out among
				// targets and campaigns in turns (store.Claim), so no target
				// takes it all.
				c := ct
				c.Limit, c.Campaigns = min(slots, pace), plain
				singles = append(singles, c)
			}
		}()
	}
	var out []delivery.Message
	if len(digests) > 0 {
		claimed, err := o.store.ClaimDigests(ctx, o.owner, digests)
		if err != nil {
			return nil, err
		}
		msgs, err := o.renderDigests(ctx, claimed)
		out = append(out, msgs...)
		if err != nil {
			return out, err
		}
	}
	if len(singles) > 0 {
		msgs, err := o.claimSingles(ctx, limit-len(out), singles)
		out = append(out, msgs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// renderDigests turns claimed digests into emails; one that cannot be
// rendered goes back to the queue for a minute, one with no letter left
// (every supporter in it erased) is closed.
func (o *Outbox) renderDigests(ctx context.Context, claimed []store.ClaimedDigest) ([]delivery.Message, error) {
	p := o.Delivery
	var out []delivery.Message
	var back []delivery.Outcome
	for _, d := range claimed {
		m := d.Message
		if len(d.Letters) == 0 {
			back = append(back, delivery.Outcome{ID: m.ID, Digest: true, Status: sendlog.Cancelled})
			continue
		}
		info, _ := p.Campaign(m.Campaign)
		if info.Title == "" {
			info.Title = m.Campaign
		}
		if info.LetterFor != nil {
			info.Subject, info.Body = info.LetterFor(m.TargetID)
		}
		replyTo := info.ReplyTo
		if replyTo == "" {
			replyTo = p.ReplyTo
		}
		readURL := ""
		if p.ReadingURL != nil {
			u, err := p.ReadingURL(ctx, m.Campaign, m.TargetID)
			if err != nil {
				back = append(back, delivery.Outcome{ID: m.ID, Digest: true, Status: sendlog.Queued, Error: err.Error(),
					Next: time.Now().Add(time.Minute)})
				continue
			}
			readURL = u
		}
		subject, body, err := p.Digests.RenderFor(info, d, readURL)
		if err != nil {
			back = append(back, delivery.Outcome{ID: m.ID, Digest: true, Status: sendlog.Queued, Error: err.Error(),
				Next: time.Now().Add(time.Minute)})
			continue
		}
		m.Subject, m.Body, m.Letters = subject, body, len(d.Letters)
		m.SupporterName, m.SupporterEmail = info.Organizer, replyTo
		if err := o.relayReplyTo(ctx, &m); err != nil {
			back = append(back, delivery.Outcome{ID: m.ID, Digest: true, Status: sendlog.Queued, Error: err.Error(),
				Next: time.Now().Add(time.Minute)})
			continue
		}
		out = append(out, m)
	}
	if len(back) > 0 {
		if err := o.store.FinishDigests(ctx, back); err != nil {
			return out, fmt.Errorf("letter: outbox: give back digests: %w", err)
		}
	}
	return out, nil
}

// domainBudget is what is left, within one claim, of each receiving
// domain's room (delivery.Room.DomainSlots) as its targets are given
// emails.
type domainBudget map[string]int

// left is how many more emails the target's domain may be given in this
// claim (no limit when no domain cap applies).
func (b domainBudget) left(r delivery.Room) int {
	if r.Domain == "" {
		return math.MaxInt32
	}
	if n, ok := b[r.Domain]; ok {
		return n
	}
	return r.DomainSlots
}

// use counts n emails given to the target.
func (b domainBudget) use(r delivery.Room, n int) {
	if r.Domain != "" {
		b[r.Domain] = b.left(r) - n
	}
}
