// Package delivery moves queued messages out of the send log and through a
// Mailer: the dry-run mailer by default, SendGrid when a key is configured.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// Message is one personalized letter to one target, as the sender sees it
// (sendlog.Message).
type Message = sendlog.Message

// Mailer sends one message and returns the provider's message id.
// A failure is reported as a *SendError so the sender knows what to do next;
// any other error is treated as temporary.
type Mailer interface {
	Send(ctx context.Context, m Message) (providerID string, err error)
	Name() string
}

// ErrorKind says how the sender should react to a failed send.
type ErrorKind int

const (
	// Temporary: 5xx, timeout, connection error. Retry with backoff.
	Temporary ErrorKind = iota
	// Permanent: 400, 413. Mark failed at once.
	Permanent
	// RateLimited: 429. Slow the whole sender down until RetryAt.
	RateLimited
	// Unauthorized: 401, 403. Pause all sending until the operator acts.
	Unauthorized
)

func (k ErrorKind) String() string {
	switch k {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case RateLimited:
		return "rate-limited"
	case Unauthorized:
		return "unauthorized"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// SendError is a classified send failure.
type SendError struct {
	Kind    ErrorKind
	Status  int       // HTTP status, 0 when no response
	RetryAt time.Time // for RateLimited: when the provider allows sending again (zero: unknown)
	Msg     string
	// TooLarge: the provider refused the request for its size (413, or a
	// 400 about the size that names no field). A digest so refused is
	// split in two and each half tried again; a single letter fails.
	TooLarge bool
}

func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.Status, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Msg)
}

// Classify returns the SendError in err, or a Temporary one wrapping err.
func Classify(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Kind: Temporary, Msg: err.Error()}
}

// Outcome is what became of one claimed message (sendlog.Outcome).
type Outcome = sendlog.Outcome

// Queue is where messages come from: the send log.
type Queue interface {
	// Claim leases up to limit due messages, at most room(id).Slots for
	// each target, under this sender's lease.
	Claim(ctx context.Context, limit int, room func(targetID string) Room) ([]Message, error)
	// Finish records outcomes of claimed messages.
	Finish(ctx context.Context, outcomes []Outcome) error
	// Renew keeps this sender's lease alive for ttl more, returns to the
	// queue the messages of senders whose lease ran out, and says whether
	// this sender is the one that sends.
	Renew(ctx context.Context, ttl time.Duration) (Lease, error)
	// Release ends this sender's lease at shutdown.
	Release(ctx context.Context) error
	// Recent returns, per target, when emails were sent since since (by
	// any sender): a sender that takes over starts its cap windows from
	// the past hour's.
	Recent(ctx context.Context, since time.Time) (map[string][]time.Time, error)
}

// Lease is what a renewal found (sendlog.Lease).
type Lease = sendlog.Lease

// Room is what a target may receive now, as the sender's hourly cap window
// sees it.
type Room struct {
	// Slots is how many more emails (single letters or digests) the target
	// may be given now: its hourly allowance (the cap, or less while its
	// server pushes back: pushback.go) less what it received in the past
	// hour and what is claimed for it and not finished. With no cap it is
	// math.MaxInt32.
	Slots int
	// LastSingle is when the target was last given a single letter (sent
	// or claimed), for the drip's spacing; zero when unknown.
	LastSingle time.Time
	// Now is the sender's clock.
	Now time.Time
	// Pace, when above zero, is how many emails the target may be given
	// at this moment: its hourly allowance is spread across the hour
	// (OUTCRY_SPREAD), so a target whose turn it is gets one, and one
	// whose turn has not come has no Slots. Zero: no such limit.
	Pace int
	// Domain is the target's receiving domain when a per-domain cap
	// applies (OUTCRY_DOMAIN_HOURLY_CAP), and DomainSlots how many more
	// emails all its targets together may be given now. A claim that
	// gives several targets of one domain emails keeps their sum within
	// DomainSlots (Slots is the target's own room).
	Domain      string
	DomainSlots int
}

// Limit is how many emails the target may be given now: Slots, and no
// more than Pace when the allowance is spread.
func (r Room) Limit() int {
	if r.Pace > 0 {
		return min(r.Slots, r.Pace)
	}
	return r.Slots
}

// Mode is how a campaign's letters are delivered.
type Mode string

// Delivery modes (OUTCRY_DELIVERY, a campaign's "delivery").
const (
	// Individual: one email per letter, held back by the cap for as long
	// as it takes.
	Individual Mode = "individual"
	// Overflow: one email per letter while the cap allows; a letter that
	// has waited OUTCRY_DIGEST_AFTER goes into a digest instead.
	Overflow Mode = "overflow"
	// Digest: letters go only in digests, on the OUTCRY_DIGEST_EVERY
	// schedule.
	Digest Mode = "digest"
)

// Valid reports whether m is one of the modes.
func (m Mode) Valid() bool { return m == Individual || m == Overflow || m == Digest }
