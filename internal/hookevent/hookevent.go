// Package hookevent is the vocabulary of outcry's outgoing webhooks (issue
// 23), shared by the store (which writes a delivery in the transaction of
// the change it reports), the sender (internal/outhook) and the console:
// the event types, the data each carries, and the JSON body of a delivery
// as the Standard Webhooks specification shapes it.
//
// Personal data (names, email addresses, postcodes) goes only to endpoints
// marked for it: every event is written in two versions, Personal and
// Public, and the store picks one per endpoint.
package hookevent

import (
	"encoding/json"
	"slices"
	"time"
)

// Type is an event type, "<noun>.<verb>" as the specification suggests.
type Type string

// The event types an endpoint can subscribe to.
const (
	LetterCreated      Type = "letter.created"
	SupporterConfirmed Type = "supporter.confirmed"
	SupporterErased    Type = "supporter.erased"
	MessageSent        Type = "message.sent"
	MessageDelivered   Type = "message.delivered"
	MessageFailed      Type = "message.failed"
	TargetFlagged      Type = "target.flagged"
	CampaignUpdated    Type = "campaign.updated"
	ReplyReceived      Type = "reply.received" // an inbound email was recorded (issue 22)
	// Test is what the console's "send a test event" button sends, to one
	// endpoint whatever it subscribed to.
	Test Type = "webhook.test"
)

// All are the types an endpoint may subscribe to, in the console's order.
var All = []Type{LetterCreated, SupporterConfirmed, SupporterErased, MessageSent, MessageDelivered, MessageFailed,
	TargetFlagged, CampaignUpdated, ReplyReceived}

// Valid reports whether t is a type an endpoint may subscribe to.
func Valid(t Type) bool { return slices.Contains(All, t) }

// Supporter is a supporter as an event carries them. Id and the consent
// flags go to every endpoint; the rest only to those marked for personal
// data (omitted otherwise).
type Supporter struct {
	ID             int64  `json:"id"`
	ConsentUpdates bool   `json:"consent_updates"`
	ConsentVersion string `json:"consent_version,omitempty"`
	FirstName      string `json:"first_name,omitempty"`
	LastName       string `json:"last_name,omitempty"`
	Email          string `json:"email,omitempty"`
	Postcode       string `json:"postcode,omitempty"`
}

// Public is s without the personal fields.
func (s Supporter) Public() Supporter {
	return Supporter{ID: s.ID, ConsentUpdates: s.ConsentUpdates, ConsentVersion: s.ConsentVersion}
}

// Letter is the data of letter.created.
type Letter struct {
	Campaign  string    `json:"campaign"`
	Supporter Supporter `json:"supporter"`
	Targets   []string  `json:"targets"`
	Source    string    `json:"source"`
}

// SupporterEvent is the data of supporter.confirmed and supporter.erased.
type SupporterEvent struct {
	Campaign  string    `json:"campaign"`
	Supporter Supporter `json:"supporter"`
}

// Message is the data of message.sent, message.delivered and message.failed.
type Message struct {
	ID          int64  `json:"id"`
	Campaign    string `json:"campaign"`
	SupporterID int64  `json:"supporter_id"`
	Target      string `json:"target"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"` // message.failed: why
}

// Target is the data of target.flagged.
type Target struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Reply is the data of reply.received: one inbound email recorded at a
// relay address (docs/replies.md). Kind is reply, acknowledgement or
// unmatched; State is forwarded, pending, held or recorded; Direction is
// from_target or from_supporter. The sender, the subject and the text go
// only to endpoints marked for personal data (a supporter may be the
// sender, and a reply may quote their letter).
type Reply struct {
	ID          int64     `json:"id"`
	Campaign    string    `json:"campaign"`
	Target      string    `json:"target"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Direction   string    `json:"direction"`
	SupporterID int64     `json:"supporter_id,omitempty"`
	ReceivedAt  time.Time `json:"received_at"`
	FromEmail   string    `json:"from_email,omitempty"`
	FromName    string    `json:"from_name,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Text        string    `json:"text,omitempty"`
}

// Public is r without the sender, the subject and the text.
func (r Reply) Public() Reply {
	r.FromEmail, r.FromName, r.Subject, r.Text = "", "", "", ""
	return r
}

// Campaign is the data of campaign.updated.
type Campaign struct {
	Slug   string `json:"slug"`
	Status string `json:"status"`
}

// Event is one change to report: its type, the campaign it belongs to ("":
// none, it then goes only to endpoints of every campaign), the supporter
// it is about (0: none; their pending deliveries are dropped when they are
// erased) and its data in two versions.
type Event struct {
	Type        Type
	Campaign    string
	SupporterID int64
	At          time.Time
	Personal    any // for endpoints marked for personal data
	Public      any // for every other endpoint; nil: the same as Personal
}

// body is a delivery's JSON body.
type body struct {
	Type      Type   `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// Bodies are e's two JSON bodies, {"type", "timestamp", "data"}.
func (e Event) Bodies() (personal, public []byte, err error) {
	ts := e.At.UTC().Format(time.RFC3339Nano)
	if personal, err = json.Marshal(body{e.Type, ts, e.Personal}); err != nil {
		return nil, nil, err
	}
	if e.Public == nil {
		return personal, personal, nil
	}
	public, err = json.Marshal(body{e.Type, ts, e.Public})
	return personal, public, err
}
