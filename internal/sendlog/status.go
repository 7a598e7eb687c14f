// Package sendlog is the send log's vocabulary, below everyone who shares it:
// the statuses (their order and which are final), the message as the sender
// sees it, an outcome, the sender's lease, a provider event and the rules of
// which event moves a message where. It imports nothing of outcry's.
//
// The statuses are the one set of send-log statuses: the store writes
// them, the sender reports them, the webhook moves messages between them
// and the console filters and shows them. Use these constants rather than
// string literals.
package sendlog

import "strings"

// Status is a message's state in the send log (and a digest's, for the
// ones a digest can have: Queued, Sending, Sent, Failed, Cancelled).
type Status string

// The statuses, in the order a message normally moves through them.
const (
	Unconfirmed Status = "unconfirmed" // waiting for its writer's confirmation (OUTCRY_CONFIRM=on)
	Queued      Status = "queued"      // waiting for a slot (or a digest)
	Sending     Status = "sending"     // leased by a sender, alone or in a digest
	Sent        Status = "sent"        // the provider took it
	Deferred    Status = "deferred"    // events: the target's server delays it
	Delivered   Status = "delivered"   // events: the target's server took it
	Bounced     Status = "bounced"     // events: refused (final)
	Dropped     Status = "dropped"     // events: the provider dropped it (final)
	SpamReport  Status = "spamreport"  // events: the target reported it as spam (final)
	Failed      Status = "failed"      // our verdict: permanent error, or attempts exhausted
	Cancelled   Status = "cancelled"   // by the organizer, or its writer erased
)

// All lists every status in the console's order.
var All = []Status{Unconfirmed, Queued, Sending, Sent, Delivered, Deferred, Bounced, Dropped, SpamReport, Failed, Cancelled}

// Valid reports whether s is one of All.
func (s Status) Valid() bool {
	for _, v := range All {
		if v == s {
			return true
		}
	}
	return false
}

// Rank orders statuses so that events arriving late or out of order never
// move a message backwards: apply a new status only when its rank is
// higher than the current one.
//
//	queued, sending                    1
//	sent                               2
//	deferred                           3
//	delivered                          4
//	bounced, dropped, spamreport       5 (final)
//
// A spam report or a late bounce may follow "delivered"; "deferred" may
// not. Any other status, failed included, ranks 0: an event proves the
// provider took the message, so it may overwrite our own verdict.
func (s Status) Rank() int {
	switch s {
	case Queued, Sending:
		return 1
	case Sent:
		return 2
	case Deferred:
		return 3
	case Delivered:
		return 4
	case Bounced, Dropped, SpamReport:
		return 5
	}
	return 0
}

// Final reports whether nothing more will happen to a message in s but
// delivery events.
func (s Status) Final() bool {
	switch s {
	case Unconfirmed, Queued, Sending:
		return false
	}
	return true
}

// Below returns the statuses an event status may replace: those of lower
// rank, except Cancelled and Unconfirmed, which events never touch.
func (s Status) Below() []Status {
	var out []Status
	for _, v := range All {
		if v != Cancelled && v != Unconfirmed && v.Rank() < s.Rank() {
			out = append(out, v)
		}
	}
	return out
}

// SQLList is ss as a list of SQL string literals ('queued', 'sending')
// for an IN clause. The statuses are constants, never input.
func SQLList(ss ...Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = "'" + string(s) + "'"
	}
	return strings.Join(parts, ", ")
}

// Names holds every status as a plain string, for templates, which cannot
// name Go constants: {{if eq .Status (status).Failed}},
// {{index .Counts (status).Queued}}.
type Names struct {
	Unconfirmed, Queued, Sending, Sent, Deferred, Delivered, Bounced, Dropped, SpamReport, Failed, Cancelled string
}

// Name is Names filled in from the constants.
var Name = Names{
	Unconfirmed: string(Unconfirmed), Queued: string(Queued), Sending: string(Sending), Sent: string(Sent),
	Deferred: string(Deferred), Delivered: string(Delivered), Bounced: string(Bounced), Dropped: string(Dropped),
	SpamReport: string(SpamReport), Failed: string(Failed), Cancelled: string(Cancelled),
}
