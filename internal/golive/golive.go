// Package golive checks that a configuration with live sending
// (SENDGRID_API_KEY set) is not still the example's: placeholder target
// addresses, the placeholder sender, a base URL that cannot be the public
// one. Each problem names what to set. cmd/outcry logs them at start-up and
// the console shows them on every page.
package golive

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/target"
)

// placeholderDomains are reserved for documentation and tests (RFC 2606,
// RFC 6761): mail to them goes nowhere.
var placeholderDomains = []string{"example.com", "example.org", "example.net"}
var placeholderTLDs = []string{".example", ".test", ".invalid", ".localhost", ".local"}

// PlaceholderAddress reports whether an email address is at a domain that
// cannot receive mail (example.com and its kin, or a reserved top-level
// domain).
func PlaceholderAddress(email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	d := strings.TrimSuffix(strings.ToLower(email[at+1:]), ".")
	if d == "localhost" {
		return true
	}
	for _, p := range placeholderDomains {
		if d == p || strings.HasSuffix(d, "."+p) {
			return true
		}
	}
	for _, t := range placeholderTLDs {
		if strings.HasSuffix(d, t) {
			return true
		}
	}
	return false
}

// Check returns the problems of cfg and the targets for live sending, each
// a sentence naming what to set; none in dry-run (no SENDGRID_API_KEY),
// where the example's placeholders are expected.
func Check(cfg config.Config, targets []target.Target) []string {
	if cfg.DryRun() {
		return nil
	}
	var out []string
	var ph []string
	for _, t := range targets {
		if t.Active && PlaceholderAddress(t.Email) {
			ph = append(ph, t.ID+" <"+t.Email+">")
		}
	}
	if len(ph) > 0 {
		shown := ph
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(ph)-5))
		}
		out = append(out, fmt.Sprintf("%d active target(s) have placeholder addresses that receive no mail (%s): put the real addresses in the targets file (%s) or on the Targets page.",
			len(ph), strings.Join(shown, ", "), cfg.Targets))
	}
	if PlaceholderAddress(cfg.FromEmail) {
		out = append(out, fmt.Sprintf("The sender OUTCRY_FROM_EMAIL=%s is a placeholder: set it to an address of a domain you authenticated in SendGrid (SPF and DKIM).", cfg.FromEmail))
	}
	out = append(out, baseURLProblems(cfg)...)
	return out
}

// baseURLProblems: share links, link previews and confirmation links are
// built from OUTCRY_BASE_URL, so it must be the address supporters use.
func baseURLProblems(cfg config.Config) []string {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil // config.Load refuses it
	}
	host := u.Hostname()
	if loopback(host) {
		return []string{fmt.Sprintf("OUTCRY_BASE_URL=%s points at this machine: share links, link previews and confirmation links would not work for supporters. Set it to the public address, such as https://write.example-campaign.org.", cfg.BaseURL)}
	}
	// An explicit port means supporters reach outcry directly (a proxy
	// answers on the scheme's port): it must be the port outcry listens on.
	if p := u.Port(); p != "" {
		if _, addrPort, err := net.SplitHostPort(cfg.Addr); err == nil && addrPort != p {
			return []string{fmt.Sprintf("OUTCRY_BASE_URL=%s names port %s but outcry listens on OUTCRY_ADDR=%s: set OUTCRY_BASE_URL to the address supporters use (behind a reverse proxy, https://your.domain without a port).", cfg.BaseURL, p, cfg.Addr)}
		}
	}
	return nil
}

func loopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	return false
}
