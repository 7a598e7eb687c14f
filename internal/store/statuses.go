package store

import "github.com/outcry/outcry/internal/sendlog"

// The statuses as SQL string literals, for the store's queries: built from
// the constants of internal/sendlog, the one set, and written into the
// query text (not passed as arguments) so that the planners match the
// partial indexes, whose WHERE clauses name them.
const (
	sqlUnconfirmed = "'" + string(sendlog.Unconfirmed) + "'"
	sqlQueued      = "'" + string(sendlog.Queued) + "'"
	sqlSending     = "'" + string(sendlog.Sending) + "'"
	sqlSent        = "'" + string(sendlog.Sent) + "'"
	sqlDeferred    = "'" + string(sendlog.Deferred) + "'"
	sqlDelivered   = "'" + string(sendlog.Delivered) + "'"
	sqlBounced     = "'" + string(sendlog.Bounced) + "'"
	sqlDropped     = "'" + string(sendlog.Dropped) + "'"
	sqlSpamReport  = "'" + string(sendlog.SpamReport) + "'"
	sqlFailed      = "'" + string(sendlog.Failed) + "'"
	sqlCancelled   = "'" + string(sendlog.Cancelled) + "'"
)
