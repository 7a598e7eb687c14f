// Package golive checks that a configuration with live sending
// (SENDGRID_API_KEY set) is not still the example's: placeholder target
// addresses, the placeholder sender, a base URL that cannot be the public
// one. Each problem names what to set. cmd/outcry logs them at start-up and
// the console shows them on every page.
package golive

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

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

// Problem is one thing that stands in the way of live sending: a code a
// program can test, a sentence naming what to set, and whether it holds
// live sending (OUTCRY_READINESS=hold) or is a warning only.
type Problem struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Blocking bool   `json:"blocking"`
}

// Problem codes.
const (
	PlaceholderTargets = "placeholder_targets" // blocking
	PlaceholderSender  = "placeholder_sender"  // blocking
	LoopbackBaseURL    = "loopback_base_url"   // blocking
	BaseURLPort        = "base_url_port"
	NoWebhookKey       = "no_webhook_key"
	UntrustedProxy     = "untrusted_proxy"
)

// Check returns the problems of cfg and the targets for live sending, each
// a sentence naming what to set; none in dry-run (no SENDGRID_API_KEY),
// where the example's placeholders are expected.
func Check(cfg config.Config, targets []target.Target) []string {
	var out []string
	for _, p := range Problems(cfg, targets) {
		out = append(out, p.Message)
	}
	return out
}

// Problems is Check with each problem's code and weight; it does not know
// of requests through a proxy (Readiness does).
func Problems(cfg config.Config, targets []target.Target) []Problem {
	if cfg.DryRun() {
		return nil
	}
	var out []Problem
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
		out = append(out, Problem{PlaceholderTargets, fmt.Sprintf("%d active target(s) have placeholder addresses that receive no mail (%s): put the real addresses in the targets file (%s) or on the Targets page.",
			len(ph), strings.Join(shown, ", "), cfg.Targets), true})
	}
	if PlaceholderAddress(cfg.FromEmail) {
		out = append(out, Problem{PlaceholderSender, fmt.Sprintf("The sender OUTCRY_FROM_EMAIL=%s is a placeholder: set it to an address of a domain you authenticated in SendGrid (SPF and DKIM).", cfg.FromEmail), true})
	}
	out = append(out, baseURLProblems(cfg)...)
	if cfg.WebhookPublicKey == "" {
		out = append(out, Problem{NoWebhookKey, "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: delivery events (delivered, bounced, spam reports) are not recorded. Turn on SendGrid's signed Event Webhook and set its verification key.", false})
	}
	return out
}

// Readiness is Problems kept for a running outcry: it also notes requests
// that came through a proxy outcry does not trust, and says whether live
// sending is held (OUTCRY_READINESS=hold, the default, and a blocking
// problem open).
type Readiness struct {
	Config  config.Config
	Targets func() []target.Target
	// Hold: blocking problems hold live sending; false (OUTCRY_READINESS=warn)
	// makes every problem a warning.
	Hold    bool
	proxied atomic.Bool
}

// Problems are the open problems now.
func (r *Readiness) Problems() []Problem {
	var ts []target.Target
	if r.Targets != nil {
		ts = r.Targets()
	}
	out := Problems(r.Config, ts)
	if !r.Config.DryRun() && r.proxied.Load() {
		out = append(out, Problem{UntrustedProxy, "Requests arrive through a proxy (X-Forwarded-For from a private address) but OUTCRY_TRUSTED_PROXIES is not set: every supporter looks like the proxy's one address, so the per-address limits refuse them after a few letters. Set OUTCRY_TRUSTED_PROXIES to the proxy's address.", false})
	}
	return out
}

// Held reports whether live sending is held, and why (the blocking
// problems' codes).
func (r *Readiness) Held() (bool, string) {
	if r == nil || !r.Hold || r.Config.DryRun() {
		return false, ""
	}
	var codes []string
	for _, p := range r.Problems() {
		if p.Blocking {
			codes = append(codes, p.Code)
		}
	}
	return len(codes) > 0, strings.Join(codes, ", ")
}

// SeeRequest notes a request that came from a private or loopback address
// with X-Forwarded-For while no proxy is trusted: a proxy in front that
// outcry was not told of.
func (r *Readiness) SeeRequest(req *http.Request) {
	if r == nil || len(r.Config.TrustedProxies) > 0 || r.proxied.Load() || req.Header.Get("X-Forwarded-For") == "" {
		return
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsPrivate() || ip.IsLoopback()) {
		r.proxied.Store(true)
	}
}

// baseURLProblems: share links, link previews and confirmation links are
// built from OUTCRY_BASE_URL, so it must be the address supporters use.
func baseURLProblems(cfg config.Config) []Problem {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil // config.Load refuses it
	}
	host := u.Hostname()
	if loopback(host) {
		return []Problem{{LoopbackBaseURL, fmt.Sprintf("OUTCRY_BASE_URL=%s points at this machine: share links, link previews and confirmation links would not work for supporters. Set it to the public address, such as https://write.example-campaign.org.", cfg.BaseURL), true}}
	}
	// An explicit port means supporters reach outcry directly (a proxy
	// answers on the scheme's port): it must be the port outcry listens on.
	if p := u.Port(); p != "" {
		if _, addrPort, err := net.SplitHostPort(cfg.Addr); err == nil && addrPort != p {
			return []Problem{{BaseURLPort, fmt.Sprintf("OUTCRY_BASE_URL=%s names port %s but outcry listens on OUTCRY_ADDR=%s: set OUTCRY_BASE_URL to the address supporters use (behind a reverse proxy, https://your.domain without a port).", cfg.BaseURL, p, cfg.Addr), false}}
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
