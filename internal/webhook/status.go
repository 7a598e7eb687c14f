package webhook

import "strings"

// Send-log statuses an event can move a message to.
const (
	StatusDelivered  = "delivered"
	StatusDeferred   = "deferred"
	StatusBounced    = "bounced"
	StatusDropped    = "dropped"
	StatusSpamReport = "spamreport"
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
// order never move a message backwards: apply a new status only when its
// rank is higher than the current one.
//
//	queued, sending                    1
//	sent                               2
//	deferred                           3
//	delivered                          4
//	bounced, dropped, spamreport       5 (final)
//
// A spam report or a late bounce may follow "delivered"; "deferred" may not.
// Any other status, "failed" included, ranks 0: an event proves the
// provider took the message, so it may overwrite our own verdict.
func Rank(status string) int {
	switch status {
	case "queued", "sending":
		return 1
	case "sent":
		return 2
	case StatusDeferred:
		return 3
	case StatusDelivered:
		return 4
	case StatusBounced, StatusDropped, StatusSpamReport:
		return 5
	}
	return 0
}

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
