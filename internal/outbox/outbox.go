package outbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// OutboxStore is what the outbox needs of the database.
type OutboxStore interface {
	Claim(ctx context.Context, owner string, limit int, targets []store.ClaimTarget) ([]store.Claimed, error)
	FinishLeased(ctx context.Context, owner string, outcomes []delivery.Outcome) error
	RenewLease(ctx context.Context, owner string, ttl time.Duration) (delivery.Lease, error)
	RecentSends(ctx context.Context, since time.Time) (map[string][]time.Time, error)
	ReleaseLease(ctx context.Context, owner string) error
	// Digests (delivery.go).
	QueueHeads(ctx context.Context, targets []string) ([]store.QueueHead, error)
	ClaimDigests(ctx context.Context, owner string, reqs []store.DigestRequest) ([]store.ClaimedDigest, error)
	FinishDigests(ctx context.Context, outcomes []delivery.Outcome) error
}

// Outbox is the sender's queue: it claims due messages per target from the
// send log, under a lease that names this process, and renders each copy
// (greeting and signature) from the supporter's letter and the target as it
// is now. It implements delivery.Queue.
type Outbox struct {
	store    OutboxStore
	targets  *target.Registry
	renderer *letter.Renderer
	owner    string
	machine  string        // the machine part of owner (leaseOwner)
	next     atomic.Uint64 // the target the next claim starts with (fairness)

	// Delivery, when set, decides which letters go alone and which in
	// digests (delivery.go); nil sends every letter alone.
	Delivery *Policy

	// Relay, when set, gives the emails of campaigns whose replies are
	// relayed (campaign replies: relay) their relay Reply-To (issue 22,
	// internal/reply).
	Relay Relay
}

// Relay gives relayed campaigns' emails their Reply-To.
type Relay interface {
	// Relayed reports whether a campaign's replies go through the relay.
	Relayed(campaign string) bool
	// ReplyTo is the relay address of one message or digest.
	ReplyTo(ctx context.Context, ref store.ReplyRef) (string, error)
}

// relayReplyTo sets m's Reply-To to its relay address when its campaign
// relays replies; a single letter keeps its writer's name as the display
// name. An address that cannot be made leaves the message for a minute.
func (o *Outbox) relayReplyTo(ctx context.Context, m *delivery.Message) error {
	if o.Relay == nil || !o.Relay.Relayed(m.Campaign) {
		return nil
	}
	ref := store.ReplyRef{Campaign: m.Campaign, TargetID: m.TargetID, MessageID: m.ID}
	if m.DigestID != 0 {
		ref = store.ReplyRef{Campaign: m.Campaign, TargetID: m.TargetID, DigestID: m.DigestID}
	}
	addr, err := o.Relay.ReplyTo(ctx, ref)
	if err != nil {
		return err
	}
	m.SupporterEmail = addr
	return nil
}

// NewOutbox returns the outbox of one sender process.
func NewOutbox(st OutboxStore, targets *target.Registry, r *letter.Renderer) *Outbox {
	o := &Outbox{store: st, targets: targets, renderer: r}
	o.NameMachine(hostName())
	return o
}

// NameMachine names the machine this process's lease says it runs on
// (OUTCRY_INSTANCE; by default the host name). Call it before the sender
// starts.
func (o *Outbox) NameMachine(name string) {
	o.machine, o.owner = name, leaseOwner(name)
}

// Owner is the name this process's claims are leased under.
func (o *Outbox) Owner() string { return o.owner }

// Claim leases up to limit due messages, at most room(id) for each target,
// and renders them. Messages to a target no longer in targets.yaml stay
// queued (there is nobody to address them to); targets whose room is zero
// are not looked at, so a claim costs nothing when every target is capped.
func (o *Outbox) Claim(ctx context.Context, limit int, room func(targetID string) delivery.Room) ([]delivery.Message, error) {
	all := o.targets.Current().All
	if len(all) == 0 || limit <= 0 {
		return nil, nil
	}
	if o.Delivery != nil {
		return o.claimWithPolicy(ctx, limit, room)
	}
	// Each claim starts with the next target, so that no target waits
	// behind another's backlog.
	start := int(o.next.Add(1) % uint64(len(all)))
	var want []store.ClaimTarget
	domains := domainBudget{}
	for i := range all {
		t := all[(start+i)%len(all)]
		r := room(t.ID)
		if n := min(r.Limit(), domains.left(r)); n > 0 {
			domains.use(r, n)
			want = append(want, store.ClaimTarget{ID: t.ID, Email: t.Email, Name: t.Name, Title: t.Title, Salutation: t.Salutation, Limit: n})
		}
	}
	return o.claimSingles(ctx, limit, want)
}

// claimSingles leases and renders single letters.
func (o *Outbox) claimSingles(ctx context.Context, limit int, want []store.ClaimTarget) ([]delivery.Message, error) {
	if len(want) == 0 || limit <= 0 {
		return nil, nil
	}
	claimed, err := o.store.Claim(ctx, o.owner, limit, want)
	if err != nil {
		return nil, err
	}
	out := make([]delivery.Message, 0, len(claimed))
	var failed []delivery.Outcome
	for _, c := range claimed {
		m := c.Message
		body, err := o.renderer.Copy(c.Copy)
		if err != nil { // a broken template: give the message back, retried later
			failed = append(failed, delivery.Outcome{ID: m.ID, Status: sendlog.Queued, Error: err.Error(),
				Next: time.Now().Add(time.Minute)})
			continue
		}
		m.Body = body
		if err := o.relayReplyTo(ctx, &m); err != nil {
			failed = append(failed, delivery.Outcome{ID: m.ID, Status: sendlog.Queued, Error: err.Error(),
				Next: time.Now().Add(time.Minute)})
			continue
		}
		out = append(out, m)
	}
	if len(failed) > 0 {
		if err := o.store.FinishLeased(ctx, o.owner, failed); err != nil {
			return out, fmt.Errorf("letter: outbox: give back unrendered: %w", err)
		}
	}
	return out, nil
}

// Finish records what became of claimed messages.
func (o *Outbox) Finish(ctx context.Context, outcomes []delivery.Outcome) error {
	var single, digests []delivery.Outcome
	for _, oc := range outcomes {
		if oc.Digest {
			digests = append(digests, oc)
		} else {
			single = append(single, oc)
		}
	}
	if err := o.store.FinishLeased(ctx, o.owner, single); err != nil {
		return err
	}
	return o.store.FinishDigests(ctx, digests)
}

// Renew keeps this process's lease alive for ttl, returns to the queue
// the messages held by senders that died, and says whether this process is
// the one that sends.
//
// A sender named to send that ran on this machine and whose process is
// gone (outcry restarted after a crash) is not waited for: its lease ends
// now, and its claims go back to the queue at once.
func (o *Outbox) Renew(ctx context.Context, ttl time.Duration) (delivery.Lease, error) {
	l, err := o.store.RenewLease(ctx, o.owner, ttl)
	if err != nil || l.Leader || !goneHere(l.Holder, o.machine) {
		return l, err
	}
	if err := o.store.ReleaseLease(ctx, l.Holder); err != nil {
		return l, err
	}
	return o.store.RenewLease(ctx, o.owner, ttl)
}

// Recent returns when each target was sent an email since since.
func (o *Outbox) Recent(ctx context.Context, since time.Time) (map[string][]time.Time, error) {
	return o.store.RecentSends(ctx, since)
}

// Release ends this process's lease at shutdown.
func (o *Outbox) Release(ctx context.Context) error {
	return o.store.ReleaseLease(ctx, o.owner)
}
