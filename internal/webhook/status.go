package webhook

import "github.com/outcry/outcry/internal/sendlog"

// Event is one SendGrid event, limited to the fields outcry uses. It is the
// send log's (sendlog.Event); what each event does to a message is decided
// there too (sendlog.StatusFor, sendlog.Handed, sendlog.HardProblem).
type Event = sendlog.Event

// MaxProviderIDs is how many candidates Event.ProviderMessageIDs returns at most.
const MaxProviderIDs = sendlog.MaxProviderIDs
