package delivery

import (
	"sort"
	"strings"
)

// A cap per receiving domain (issue 28): 650 MPs at one parliament's mail
// server get, together, at most OUTCRY_DOMAIN_HOURLY_CAP emails in any
// sliding hour, across campaigns. It is kept like the per-target cap: a
// window of the past hour's sends per domain, seeded from the send log when
// this sender takes over, checked again immediately before each send.

// Domain is the part of an address after "@", lower-cased.
func Domain(email string) string {
	_, d, ok := strings.Cut(email, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(d))
}

// domainOf is the target's domain when the domain cap applies ("": it
// does not). Call with s.mu held or not; it reads only options.
func (s *Sender) domainOf(target string) string {
	if s.opt.DomainCap <= 0 || s.opt.DomainOf == nil {
		return ""
	}
	return s.opt.DomainOf(target)
}

// DomainUse is one receiving domain's use of its hourly cap.
type DomainUse struct {
	Domain string
	Sent   int // emails in the past hour
	Cap    int
}

// DomainUses lists each domain that received email in the past hour, most
// used first (the console's targets page, /metrics).
func (s *Sender) DomainUses() []DomainUse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opt.DomainCap <= 0 {
		return nil
	}
	now := s.now()
	var out []DomainUse
	for d, w := range s.domains {
		w = prune(w, now)
		s.domains[d] = w
		if len(w) > 0 {
			out = append(out, DomainUse{Domain: d, Sent: len(w), Cap: s.opt.DomainCap})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sent != out[j].Sent {
			return out[i].Sent > out[j].Sent
		}
		return out[i].Domain < out[j].Domain
	})
	return out
}

// DomainCap is OUTCRY_DOMAIN_HOURLY_CAP as the sender applies it (0: off).
func (s *Sender) DomainCap() int {
	if s.opt.DomainOf == nil {
		return 0
	}
	return s.opt.DomainCap
}
