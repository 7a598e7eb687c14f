package sendlog

import "time"

// Message is one personalized letter to one target, as the sender sees it.
type Message struct {
	ID             int64  // row id in the send log
	PublicID       string // opaque id given to the provider (custom_args)
	Campaign       string // campaign slug (the provider category)
	TargetID       string
	TargetName     string
	TargetEmail    string
	SupporterName  string // full name, used in the From display name
	SupporterEmail string // reply-to
	Subject        string
	Body           string
	Attempts       int // attempts made before this one
	// Headers are extra headers (List-Unsubscribe…) of a supporter mail;
	// letters and digests have none.
	Headers map[string]string
	// DigestID is set when the message is a digest: one email carrying
	// many letters (ID is then the digest's id). It counts as one email
	// against the target's cap; its outcome applies to every letter in it.
	DigestID int64
	Letters  int // letters in a digest
}

// Outcome is what became of one claimed message.
type Outcome struct {
	ID         int64
	Status     Status    // Sent, Failed or Queued (due again at Next); Cancelled for a digest left empty
	Attempted  bool      // a send was attempted (counts toward attempts)
	ProviderID string    // with "sent"
	Error      string    // last error, kept on the row
	Next       time.Time // with "queued": when it is due again (zero: now)
	Digest     bool      // ID is a digest's id (Message.DigestID)
	// Split: a digest of two letters or more refused for its size; it is
	// split in two digests, each due again at once (Status is Queued).
	Split bool
}

// Lease is what a sender's lease renewal found.
type Lease struct {
	// Requeued is how many messages of stopped senders went back to the
	// queue.
	Requeued int64
	// Leader is true for the one sender, among all the processes that
	// share the database, that sends; the others stand by and take over
	// when its lease runs out. The rate and the caps are then held by one
	// process for all of them.
	Leader bool
	// Holder is the sender named to send (this one when Leader).
	Holder string
	// Paused and PauseReason are the organizer's pause as stored: set on
	// any instance, in force on the one that sends.
	Paused      bool
	PauseReason string
}
