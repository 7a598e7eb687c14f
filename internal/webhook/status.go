package webhook

import (
	"strings"

	"github.com/outcry/outcry/internal/status"
)

// Send-log statuses an event can move a message to (internal/status).
const (
	StatusDelivered  = string(status.Delivered)
	StatusDeferred   = string(status.Deferred)
	StatusBounced    = string(status.Bounced)
	StatusDropped    = string(status.Dropped)
	StatusSpamReport = string(status.SpamReport)
)

// StatusFor returns the send-log status e moves its message to, or "" for
// events that say nothing about delivery (processed, open, click,
// unsubscribe, group_unsubscribe, …). Every "bounce" event, blocked ones
// included, gives "bounced".
func StatusFor(e Event) string {
	switch e.Event {
	case "delivered":
		return StatusDelivered
	case "deferred":
		return StatusDeferred
	case "bounce":
		return StatusBounced
	case "dropped":
		return StatusDropped
	case "spamreport":
		return StatusSpamReport
	}
	return ""
}

// Rank orders send-log statuses so that events arriving late or out of
// order never move a message backwards (status.Status.Rank).
func Rank(s string) int { return status.Status(s).Rank() }

// Handed reports whether a message in this status may have reached the
// provider, so that a delivery event may move it: one being sent (the event
// can come before the sender records the outcome), sent or later, or failed
// (an event proves the provider took it). An event for a message not yet
// sent — queued, unconfirmed, cancelled — is recorded but changes nothing:
// it must never stop the message's sending.
func Handed(status string) bool {
	switch status {
	case "queued", "unconfirmed", "cancelled":
		return false
	}
	return true
}

// HardProblem reports whether e shows a problem with the target's address
// itself — a hard bounce (type "bounce" or none), a spam report, or a drop
// because the address is suppressed — so the target needs an operator's
// attention. A "blocked" bounce is a refusal of this message or sender
// (content, reputation), not of the address; neither is a drop for the
// message's content or the account's quota.
func HardProblem(e Event) bool {
	switch e.Event {
	case "bounce":
		return e.Type == "bounce" || e.Type == ""
	case "spamreport":
		return true
	case "dropped":
		return SuppressedAddress(e.Reason)
	}
	return false
}

// suppressedReasons are the reasons of a "dropped" event that say SendGrid
// will drop every further message to the address: it is on one of the
// account's suppression lists (bounces, spam reports, unsubscribes) or is not
// a valid address.
var suppressedReasons = []string{"Bounced Address", "Spam Reporting Address", "Unsubscribed Address", "Invalid"}

// SuppressedAddress reports whether reason, a "dropped" event's reason, is
// one of suppressedReasons (compared without regard to case or surrounding
// space). "Invalid SMTPAPI header", "Spam Content" and the like are not.
func SuppressedAddress(reason string) bool {
	reason = strings.TrimSpace(reason)
	for _, r := range suppressedReasons {
		if strings.EqualFold(reason, r) {
			return true
		}
	}
	return false
}
