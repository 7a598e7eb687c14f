package store

import "github.com/outcry/outcry/internal/status"

// The statuses as SQL string literals, for the store's queries: built from
// the constants of internal/status, the one set, and written into the
// query text (not passed as arguments) so that the planners match the
// partial indexes, whose WHERE clauses name them.
const (
	sqlUnconfirmed = "'" + string(status.Unconfirmed) + "'"
	sqlQueued      = "'" + string(status.Queued) + "'"
	sqlSending     = "'" + string(status.Sending) + "'"
	sqlSent        = "'" + string(status.Sent) + "'"
	sqlDeferred    = "'" + string(status.Deferred) + "'"
	sqlDelivered   = "'" + string(status.Delivered) + "'"
	sqlBounced     = "'" + string(status.Bounced) + "'"
	sqlDropped     = "'" + string(status.Dropped) + "'"
	sqlSpamReport  = "'" + string(status.SpamReport) + "'"
	sqlFailed      = "'" + string(status.Failed) + "'"
	sqlCancelled   = "'" + string(status.Cancelled) + "'"
)
