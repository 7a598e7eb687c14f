package confirm

import (
	"sync"
	"time"
)

// dryRunKeep is how many dry-run confirmation links the service remembers.
const dryRunKeep = 20

// DryRunLink is a confirmation link that was not emailed because the mailer
// is the dry-run one: the console shows it so the operator can follow it.
// It names the supporter by id, never by address.
type DryRunLink struct {
	SupporterID int64
	Link        string
	At          time.Time
}

// dryRunLinks is a small ring of the most recent dry-run links, in memory
// only (they are also in the log).
type dryRunLinks struct {
	mu    sync.Mutex
	links []DryRunLink // oldest first, at most dryRunKeep
}

func (r *dryRunLinks) add(l DryRunLink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.links) == dryRunKeep {
		copy(r.links, r.links[1:])
		r.links = r.links[:dryRunKeep-1]
	}
	r.links = append(r.links, l)
}

func (r *dryRunLinks) recent() []DryRunLink {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]DryRunLink, len(r.links))
	for i, l := range r.links {
		out[len(out)-1-i] = l
	}
	return out
}

// DryRunLinks returns the most recent confirmation links shown instead of
// emailed (dry-run mailer), newest first; empty when sending is live.
func (s *Service) DryRunLinks() []DryRunLink {
	return s.dryRun.recent()
}
