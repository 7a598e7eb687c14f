package sendlog

import (
	"strings"
	"unicode/utf8"
)

// MaxTimestamp is the last Unix second an event may carry (the end of
// year 9999); a timestamp outside 1..MaxTimestamp reads as 0 (unknown),
// so that it never overflows once turned into milliseconds.
const MaxTimestamp = 253_402_300_799

// Event is one provider (SendGrid) event, limited to the fields outcry uses.
type Event struct {
	Email       string
	Timestamp   int64 // Unix seconds, 1..MaxTimestamp; 0: absent or out of range
	Event       string
	SGEventID   string
	SGMessageID string
	// OutcryID is the custom arg "outcry_id" set at send time, which
	// SendGrid copies to the top level of each event.
	OutcryID string
	Type     string // for "bounce": "bounce" or "blocked"
	Reason   string
	Status   string // SMTP status, e.g. "5.0.0"
	Response string
}

// MaxProviderIDs is how many candidates ProviderMessageIDs returns at most.
const MaxProviderIDs = 8

// ProviderMessageIDs returns the ids the message may have been sent with,
// shortest first. sg_message_id is the X-Message-Id SendGrid answered with,
// then '.' and a filter suffix ("LRzXl_NHStOGhQ4kofSm_A.filterdrecv-…"); in
// SendGrid's older form the X-Message-Id itself holds dots (its documented
// sample "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0" has the
// smtp-id <14c5d75ce93.dfd.64b469@ismtpd-555>). So the stored id is a prefix of sg_message_id
// that ends before a '.', or the whole of it: each of those is a candidate,
// at most MaxProviderIDs of them.
func (e Event) ProviderMessageIDs() []string {
	id := e.SGMessageID
	var out []string
	for i := 0; i < len(id) && len(out) < MaxProviderIDs; i++ {
		if id[i] == '.' && i > 0 {
			out = append(out, id[:i])
		}
	}
	if id != "" && len(out) < MaxProviderIDs {
		out = append(out, id)
	}
	return out
}

// StatusFor returns the send-log status e moves its message to, or "" for
// events that say nothing about delivery (processed, open, click,
// unsubscribe, group_unsubscribe, …). Every "bounce" event, blocked ones
// included, gives Bounced.
func StatusFor(e Event) Status {
	switch e.Event {
	case "delivered":
		return Delivered
	case "deferred":
		return Deferred
	case "bounce":
		return Bounced
	case "dropped":
		return Dropped
	case "spamreport":
		return SpamReport
	}
	return ""
}

// Handed reports whether a message in status s may have reached the
// provider, so that a delivery event may move it: one being sent (the event
// can come before the sender records the outcome), sent or later, or failed
// (an event proves the provider took it). An event for a message not yet
// sent — queued, unconfirmed, cancelled — is recorded but changes nothing:
// it must never stop the message's sending.
func Handed(s Status) bool {
	switch s {
	case Queued, Unconfirmed, Cancelled:
		return false
	}
	return true
}

// HardProblem reports whether e shows a problem with the target's address
// itself — a hard bounce (type "bounce" or none, and not a temporary 4xx
// status), a spam report, or a drop because the address is suppressed — so
// the target needs an operator's attention. A "blocked" bounce is a refusal
// of this message or sender (content, reputation), not of the address;
// neither is a drop for the message's content or the account's quota, nor
// a soft bounce (Pushback).
func HardProblem(e Event) bool {
	switch e.Event {
	case "bounce":
		return (e.Type == "bounce" || e.Type == "") && !Temporary(e.Status)
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

// Pushback reports whether e is the target's receiving server pushing back:
// a "deferred" event (it asked to try later) or a soft bounce (a "bounce"
// whose SMTP status is a temporary failure, 4.x.x). Such events slow the
// sending to the target (package pushback) rather than flag it at once.
func Pushback(e Event) bool {
	switch e.Event {
	case "deferred":
		return true
	case "bounce":
		return Temporary(e.Status)
	}
	return false
}

// Temporary reports whether an SMTP status ("4.2.2", "421", "4.7.0
// Try again later") is a temporary failure: its first digit is 4.
func Temporary(status string) bool {
	status = strings.TrimSpace(status)
	return status != "" && status[0] == '4'
}

// PushbackReason is what a push-back said, for the organizer: the event,
// its SMTP status, and the server's words (reason, else response), at
// most 200 bytes.
func PushbackReason(e Event) string {
	r := e.Event
	if st := strings.TrimSpace(e.Status); st != "" {
		r += " " + st
	}
	words := strings.TrimSpace(e.Reason)
	if words == "" {
		words = strings.TrimSpace(e.Response)
	}
	if words != "" {
		r += ": " + words
	}
	if len(r) > 200 {
		n := 200
		for n > 0 && !utf8.RuneStart(r[n]) {
			n--
		}
		r = r[:n] + "…"
	}
	return r
}
