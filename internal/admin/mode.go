package admin

import (
	"strings"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/golive"
)

// modeBanner is what every console page says about how mail goes out: in
// dry-run nothing leaves the machine; in SendGrid's sandbox nothing is
// delivered; with live sending, anything that stands in the way (a
// placeholder address, a base URL supporters cannot reach).
type modeBanner struct {
	DryRun  bool
	Sandbox bool
	GoLive  []golive.Problem
	Held    bool // live sending is held until the blocking problems are solved
}

func (c *Console) modeBanner() modeBanner {
	var m modeBanner
	if c.d.Sender != nil {
		_, m.DryRun = c.d.Sender.Mailer().(*delivery.DryRun)
	}
	m.Sandbox = c.d.Sandbox && !m.DryRun
	if c.d.Readiness != nil && !m.DryRun {
		m.GoLive = c.d.Readiness.Problems()
		m.Held, _ = c.d.Readiness.Held()
	}
	return m
}

// dryRunID reports whether a provider message id is the dry-run mailer's:
// such a message was recorded as sent and never left the machine.
func dryRunID(providerID string) bool { return strings.HasPrefix(providerID, delivery.DryRunPrefix) }

// statusLabel is a message's status as the console shows it: "sent (dry
// run)" for what the dry-run mailer recorded.
func statusLabel(status, providerID string) string {
	if dryRunID(providerID) {
		return status + " (dry run)"
	}
	return status
}
