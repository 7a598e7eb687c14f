package admin

import (
	"strings"

	"github.com/outcry/outcry/internal/delivery"
)

// modeBanner is what every console page says about how mail goes out: in
// dry-run nothing leaves the machine; in SendGrid's sandbox nothing is
// delivered; with live sending, anything that stands in the way (a
// placeholder address, a base URL supporters cannot reach).
type modeBanner struct {
	DryRun  bool
	Sandbox bool
	GoLive  []string
}

func (c *Console) modeBanner() modeBanner {
	var m modeBanner
	if c.d.Sender != nil {
		_, m.DryRun = c.d.Sender.Mailer().(*delivery.DryRun)
	}
	m.Sandbox = c.d.Sandbox && !m.DryRun
	if c.d.GoLive != nil && !m.DryRun {
		m.GoLive = c.d.GoLive()
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
