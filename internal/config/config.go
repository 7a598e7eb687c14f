// Package config reads outcry's settings from the environment, with defaults
// that serve the bundled campaign on a fresh machine.
package config

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting. docs/configuration.md documents
// each environment variable in one table; TestDocumentedVariables keeps the two in step.
type Config struct {
	Addr      string // OUTCRY_ADDR
	DB        string // OUTCRY_DB
	Targets   string // OUTCRY_TARGETS
	Areas     string // OUTCRY_AREAS: postcode → area CSV ("" = none; issue 21)
	Campaign  string // OUTCRY_CAMPAIGN: campaign content file (missing: the embedded example)
	Templates string // OUTCRY_TEMPLATES: directory overriding embedded templates ("" = embedded)
	BaseURL   string // OUTCRY_BASE_URL
	LogLevel  string // OUTCRY_LOG_LEVEL
	Instance  string // OUTCRY_INSTANCE: this instance's name in sender leases ("" = the host name)
	LogFormat string // OUTCRY_LOG_FORMAT: text or json
	Lang      string // OUTCRY_LANG: language of the pages (templates/messages/<lang>.yaml)

	// Delivery.
	SendGridAPIKey   string        // SENDGRID_API_KEY
	SendGridURL      string        // OUTCRY_SENDGRID_URL
	FromEmail        string        // OUTCRY_FROM_EMAIL
	FromName         string        // OUTCRY_FROM_NAME
	SendRate         float64       // OUTCRY_SEND_RATE: messages/second, 0 = no limit
	MailRate         float64       // OUTCRY_MAIL_RATE: supporter mails/second, its own budget beside OUTCRY_SEND_RATE
	TargetHourlyCap  int           // OUTCRY_TARGET_HOURLY_CAP: 0 = no cap
	Spread           bool          // OUTCRY_SPREAD: spread a target's hourly allowance across the hour (on) or send as soon as caps allow (off)
	DomainHourlyCap  int           // OUTCRY_DOMAIN_HOURLY_CAP: most emails an hour to all targets at one domain; 0 = no cap
	Sandbox          bool          // OUTCRY_SANDBOX
	SendWorkers      int           // OUTCRY_SEND_WORKERS
	MaxAttempts      int           // OUTCRY_MAX_ATTEMPTS
	SendTimeout      time.Duration // OUTCRY_SEND_TIMEOUT
	MaxPending       int           // OUTCRY_MAX_PENDING: letters in the sign path at once; past it 503 (issue 29)
	WebhookPublicKey string        // SENDGRID_WEBHOOK_PUBLIC_KEY
	WebhookUnsigned  bool          // OUTCRY_WEBHOOK_UNSIGNED: accept unsigned webhook posts (no key)
	// WebhooksInsecure (OUTCRY_WEBHOOKS_INSECURE=on) lets outgoing
	// webhooks use plain http and reach loopback and private addresses:
	// for tests and a receiver on the same host (issue 23).
	WebhooksInsecure bool

	// Delivery modes (issue 12; see internal/outbox/policy.go).
	Delivery string // OUTCRY_DELIVERY: individual, overflow or digest
	// Readiness is what a problem of package golive does to live sending:
	// "hold" (default: a blocking problem holds it) or "warn" (only shown).
	Readiness   string        // OUTCRY_READINESS
	DigestAfter time.Duration // OUTCRY_DIGEST_AFTER: overflow: wait before a letter goes in a digest
	DigestEvery time.Duration // OUTCRY_DIGEST_EVERY: digest mode: time between digests…
	DigestAt    time.Duration // …from this time of day, UTC (OUTCRY_DIGEST_EVERY=24h@09:00)
	DigestMax   int           // OUTCRY_DIGEST_MAX: most letters in one digest
	// DigestMaxBytes bounds a digest's request to the provider, counted as
	// the JSON sent (OUTCRY_DIGEST_MAX_BYTES; issue 24). Past it, the digest
	// links to the target's reading page for the rest.
	DigestMaxBytes int
	// Similar is the similarity to the campaign's letter at and above which
	// a letter counts, in a digest, among those who sent that letter
	// (OUTCRY_SIMILAR; internal/similar).
	Similar float64
	Drip    bool // OUTCRY_DRIP: space single letters 1h/cap apart

	// What comes back (issue 22; see internal/reply).
	ReplyDomain   string        // OUTCRY_REPLY_DOMAIN: relay addresses are <token>@this domain
	InboundSecret string        // OUTCRY_INBOUND_SECRET: path secret of /webhooks/sendgrid/inbound/{secret} ("" = off, 404)
	FollowupAfter time.Duration // OUTCRY_FOLLOWUP_AFTER: follow-up this long after the letters were sent (0 = off)

	// Trust and safety (see safety.go).
	Safety

	// Organizer console.
	AdminPassword     string // OUTCRY_ADMIN_PASSWORD
	AdminPasswordHash string // OUTCRY_ADMIN_PASSWORD_HASH: bcrypt
	AdminToken        string // OUTCRY_ADMIN_TOKEN: Bearer token of /admin/api/ and /metrics
	SessionSecret     string // OUTCRY_SESSION_SECRET: signs console sessions ("" = random per start)
}

// Default returns the settings used when no variable is set.
func Default() Config {
	return Config{
		Addr:            "localhost:8080",
		DB:              "outcry.db",
		Targets:         "targets.yaml",
		Campaign:        "campaign.yaml",
		BaseURL:         "http://localhost:8080",
		LogLevel:        "info",
		LogFormat:       "text",
		Lang:            "en",
		SendGridURL:     "https://api.sendgrid.com",
		FromEmail:       "campaigns@example.com",
		FromName:        "outcry",
		SendRate:        5,
		MailRate:        5,
		TargetHourlyCap: 30,
		Spread:          true,
		DomainHourlyCap: 300,
		SendWorkers:     8,
		MaxAttempts:     8,
		SendTimeout:     10 * time.Second,
		MaxPending:      letterMaxPending,
		Delivery:        "overflow",
		Readiness:       "hold",
		DigestAfter:     time.Hour,
		FollowupAfter:   14 * 24 * time.Hour,
		DigestEvery:     24 * time.Hour,
		DigestAt:        9 * time.Hour,
		DigestMax:       500,
		DigestMaxBytes:  1_000_000,
		Similar:         0.9,
		Safety:          defaultSafety(),
	}
}

// letterMaxPending is OUTCRY_MAX_PENDING's default, letter.DefaultMaxPending
// (derived there and in docs/scaling.md; config does not import letter).
const letterMaxPending = 1000

// Bounds of OUTCRY_DIGEST_MAX_BYTES: room for a digest's heading, one
// letter and the link to the rest; and SendGrid's 30 MB per request less
// room for the envelope (addresses, ids) around the text.
const (
	MinDigestBytes = 100_000
	MaxDigestBytes = 29_000_000
)

// DryRun reports whether no SendGrid key is configured.
func (c Config) DryRun() bool { return c.SendGridAPIKey == "" }

// Load reads the environment through getenv (os.Getenv in production) and
// returns the validated settings, or an error naming every bad variable.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	p := parser{getenv: getenv}
	p.str("OUTCRY_ADDR", &c.Addr)
	p.str("OUTCRY_DB", &c.DB)
	p.str("OUTCRY_TARGETS", &c.Targets)
	p.str("OUTCRY_AREAS", &c.Areas)
	p.str("OUTCRY_CAMPAIGN", &c.Campaign)
	p.str("OUTCRY_TEMPLATES", &c.Templates)
	c.BaseURL = urlOf(c.Addr) // unless OUTCRY_BASE_URL says otherwise
	p.str("OUTCRY_BASE_URL", &c.BaseURL)
	p.str("OUTCRY_LOG_LEVEL", &c.LogLevel)
	p.str("OUTCRY_INSTANCE", &c.Instance)
	p.str("OUTCRY_LOG_FORMAT", &c.LogFormat)
	p.str("OUTCRY_LANG", &c.Lang)

	p.str("SENDGRID_API_KEY", &c.SendGridAPIKey)
	p.str("OUTCRY_SENDGRID_URL", &c.SendGridURL)
	p.str("OUTCRY_FROM_EMAIL", &c.FromEmail)
	p.str("OUTCRY_FROM_NAME", &c.FromName)
	p.float("OUTCRY_SEND_RATE", &c.SendRate)
	p.float("OUTCRY_MAIL_RATE", &c.MailRate)
	p.int("OUTCRY_TARGET_HOURLY_CAP", &c.TargetHourlyCap)
	p.bool("OUTCRY_SPREAD", &c.Spread)
	p.int("OUTCRY_DOMAIN_HOURLY_CAP", &c.DomainHourlyCap)
	p.bool("OUTCRY_SANDBOX", &c.Sandbox)
	p.int("OUTCRY_SEND_WORKERS", &c.SendWorkers)
	p.int("OUTCRY_MAX_ATTEMPTS", &c.MaxAttempts)
	p.duration("OUTCRY_SEND_TIMEOUT", &c.SendTimeout)
	p.int("OUTCRY_MAX_PENDING", &c.MaxPending)
	p.str("SENDGRID_WEBHOOK_PUBLIC_KEY", &c.WebhookPublicKey)
	p.bool("OUTCRY_WEBHOOK_UNSIGNED", &c.WebhookUnsigned)
	p.bool("OUTCRY_WEBHOOKS_INSECURE", &c.WebhooksInsecure)
	p.str("OUTCRY_DELIVERY", &c.Delivery)
	p.str("OUTCRY_READINESS", &c.Readiness)
	p.duration("OUTCRY_DIGEST_AFTER", &c.DigestAfter)
	p.schedule("OUTCRY_DIGEST_EVERY", &c.DigestEvery, &c.DigestAt)
	p.int("OUTCRY_DIGEST_MAX", &c.DigestMax)
	p.int("OUTCRY_DIGEST_MAX_BYTES", &c.DigestMaxBytes)
	p.float("OUTCRY_SIMILAR", &c.Similar)
	p.bool("OUTCRY_DRIP", &c.Drip)
	p.str("OUTCRY_REPLY_DOMAIN", &c.ReplyDomain)
	p.str("OUTCRY_INBOUND_SECRET", &c.InboundSecret)
	p.days("OUTCRY_FOLLOWUP_AFTER", &c.FollowupAfter)
	p.str("OUTCRY_ADMIN_PASSWORD", &c.AdminPassword)
	p.str("OUTCRY_ADMIN_PASSWORD_HASH", &c.AdminPasswordHash)
	p.str("OUTCRY_ADMIN_TOKEN", &c.AdminToken)
	p.str("OUTCRY_SESSION_SECRET", &c.SessionSecret)

	p.check("OUTCRY_ADDR", c.Addr != "", "must not be empty")
	p.check("OUTCRY_DB", c.DB != "", "must not be empty")
	p.check("OUTCRY_TARGETS", c.Targets != "", "must not be empty")
	p.check("OUTCRY_BASE_URL", validURL(c.BaseURL), "must be an absolute http(s) URL")
	p.check("OUTCRY_SENDGRID_URL", validURL(c.SendGridURL), "must be an absolute http(s) URL")
	p.check("OUTCRY_INSTANCE", !strings.Contains(c.Instance, "/"), "must not contain '/'")
	p.check("OUTCRY_LOG_LEVEL", oneOf(c.LogLevel, "debug", "info", "warn", "error"), "must be debug, info, warn or error")
	p.check("OUTCRY_LOG_FORMAT", oneOf(c.LogFormat, "text", "json"), "must be text or json")
	p.check("OUTCRY_LANG", langRe.MatchString(c.Lang), "must be a language tag such as en, de or pt-BR")
	p.check("OUTCRY_FROM_EMAIL", validEmail(c.FromEmail), "must be a plain email address")
	p.check("OUTCRY_FROM_NAME", c.FromName != "" && !strings.ContainsAny(c.FromName, "\r\n\x00"), "must be a non-empty single line")
	p.check("OUTCRY_SEND_RATE", c.SendRate >= 0, "must be 0 (no limit) or a positive number")
	p.check("OUTCRY_MAIL_RATE", c.MailRate > 0 && c.MailRate <= 1000, "must be a positive number of mails a second, at most 1000")
	p.check("OUTCRY_TARGET_HOURLY_CAP", c.TargetHourlyCap >= 0, "must be 0 (no cap) or a positive whole number")
	p.check("OUTCRY_DOMAIN_HOURLY_CAP", c.DomainHourlyCap >= 0, "must be 0 (no cap) or a positive whole number")
	p.check("OUTCRY_SEND_WORKERS", c.SendWorkers >= 1 && c.SendWorkers <= 256, "must be between 1 and 256")
	p.check("OUTCRY_MAX_ATTEMPTS", c.MaxAttempts >= 1, "must be at least 1")
	p.check("OUTCRY_SEND_TIMEOUT", c.SendTimeout > 0, "must be a positive duration such as 10s")
	p.check("OUTCRY_MAX_PENDING", c.MaxPending >= 1 && c.MaxPending <= 100_000, "must be a whole number of letters between 1 and 100000")
	p.check("OUTCRY_READINESS", oneOf(c.Readiness, "hold", "warn"), "must be hold (problems that make live sending go wrong hold it) or warn (they are only shown)")
	p.check("OUTCRY_DELIVERY", oneOf(c.Delivery, "individual", "overflow", "digest"), "must be individual, overflow or digest")
	p.check("OUTCRY_DIGEST_AFTER", c.DigestAfter >= 10*time.Second, "must be a duration of at least 10s, such as 1h")
	p.check("OUTCRY_DIGEST_EVERY", c.DigestEvery >= time.Minute, "must be a duration of at least 1m, optionally with a time of day (UTC): 24h@09:00")
	p.check("OUTCRY_DIGEST_MAX", c.DigestMax >= 1 && c.DigestMax <= 1_000_000, "must be between 1 and 1000000 (OUTCRY_DIGEST_MAX_BYTES bounds a digest's size)")
	p.check("OUTCRY_DIGEST_MAX_BYTES", c.DigestMaxBytes >= MinDigestBytes && c.DigestMaxBytes <= MaxDigestBytes,
		fmt.Sprintf("must be between %d and %d bytes (SendGrid refuses a request over 30 MB)", MinDigestBytes, MaxDigestBytes))
	p.check("OUTCRY_SIMILAR", c.Similar > 0 && c.Similar <= 1, "must be a number above 0 and at most 1, such as 0.9")
	if c.Delivery == "overflow" && c.TargetHourlyCap == 1 {
		p.fail("OUTCRY_TARGET_HOURLY_CAP", p.getenv("OUTCRY_TARGET_HOURLY_CAP"),
			"must be 0 (no cap) or at least 2 with OUTCRY_DELIVERY=overflow: one email an hour leaves no room for single letters beside the digests (set 2 or more, or OUTCRY_DELIVERY=digest)")
	}
	c.ReplyDomain = strings.ToLower(strings.TrimSpace(c.ReplyDomain))
	p.check("OUTCRY_REPLY_DOMAIN", c.ReplyDomain == "" || domainRe.MatchString(c.ReplyDomain), "must be a domain name such as reply.example.org (its MX record points at SendGrid Inbound Parse)")
	p.check("OUTCRY_INBOUND_SECRET", c.InboundSecret == "" || (len(c.InboundSecret) >= 16 && pathSafe(c.InboundSecret)),
		"must be at least 16 characters of letters, digits, '-' and '_' (it is part of the Inbound Parse URL)")
	p.check("OUTCRY_FOLLOWUP_AFTER", c.FollowupAfter == 0 || c.FollowupAfter >= 10*time.Second, "must be 0 (off) or a duration of at least 10s, such as 14d or 36h")
	if c.WebhookPublicKey != "" {
		p.check("SENDGRID_WEBHOOK_PUBLIC_KEY", ecdsaPublicKey(c.WebhookPublicKey), "must be the base64 ECDSA public key SendGrid shows for the signed Event Webhook")
	}
	p.safety(&c.Safety)
	p.check("OUTCRY_ADMIN_PASSWORD_HASH", c.AdminPasswordHash == "" || strings.HasPrefix(c.AdminPasswordHash, "$2"), "must be a bcrypt hash ($2a$…, $2b$…)")
	p.check("OUTCRY_ADMIN_TOKEN", c.AdminToken == "" || len(c.AdminToken) >= 16, "must be at least 16 characters")
	p.check("OUTCRY_SESSION_SECRET", c.SessionSecret == "" || len(c.SessionSecret) >= 32, "must be at least 32 characters")
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.SendGridURL = strings.TrimRight(c.SendGridURL, "/")
	return c, errors.Join(p.errs...)
}

// urlOf is the URL a browser on this machine reaches outcry at when it
// listens on addr: the default of OUTCRY_BASE_URL, so that links in pages
// and emails follow OUTCRY_ADDR when only that is set. A wildcard or empty
// host is reached as localhost.
func urlOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Default().BaseURL
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

type parser struct {
	getenv func(string) string
	errs   []error
	bad    map[string]bool
}

func (p *parser) fail(name, raw, why string) {
	if p.bad == nil {
		p.bad = map[string]bool{}
	}
	p.bad[name] = true
	if secrets[name] {
		// Never echo a secret: the message goes to logs and terminals.
		p.errs = append(p.errs, fmt.Errorf("config: %s (value hidden, %d characters): %s", name, len(raw), why))
		return
	}
	p.errs = append(p.errs, fmt.Errorf("config: %s=%q: %s", name, raw, why))
}

// secrets are the settings whose value an error message must not show.
var secrets = map[string]bool{
	"SENDGRID_API_KEY":           true,
	"OUTCRY_ADMIN_PASSWORD":      true,
	"OUTCRY_ADMIN_PASSWORD_HASH": true,
	"OUTCRY_ADMIN_TOKEN":         true,
	"OUTCRY_SESSION_SECRET":      true,
	"OUTCRY_FORM_SECRET":         true,
}

func (p *parser) lookup(name string) (string, bool) {
	v := strings.TrimSpace(p.getenv(name))
	return v, v != ""
}

func (p *parser) str(name string, dst *string) {
	if v, ok := p.lookup(name); ok {
		*dst = v
	}
}

func (p *parser) int(name string, dst *int) {
	v, ok := p.lookup(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name, v, "must be a whole number")
		return
	}
	*dst = n
}

func (p *parser) float(name string, dst *float64) {
	v, ok := p.lookup(name)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f { // NaN
		p.fail(name, v, "must be a number")
		return
	}
	*dst = f
}

func (p *parser) bool(name string, dst *bool) {
	v, ok := p.lookup(name)
	if !ok {
		return
	}
	switch strings.ToLower(v) {
	case "1", "true", "on", "yes":
		*dst = true
	case "0", "false", "off", "no":
		*dst = false
	default:
		p.fail(name, v, "must be on or off")
	}
}

func (p *parser) duration(name string, dst *time.Duration) {
	v, ok := p.lookup(name)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(name, v, "must be a duration such as 10s or 5m")
		return
	}
	*dst = d
}

// days reads a duration that may also be written in days ("14d"); "0" is 0.
func (p *parser) days(name string, dst *time.Duration) {
	v, ok := p.lookup(name)
	if !ok {
		return
	}
	if n, found := strings.CutSuffix(v, "d"); found {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 && d <= 3650 {
			*dst = time.Duration(d) * 24 * time.Hour
			return
		}
	} else if v == "0" {
		*dst = 0
		return
	} else if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		*dst = d
		return
	}
	p.fail(name, v, "must be a duration such as 14d, 36h or 10s (0 = off)")
}

// domainRe is a DNS name of two labels or more.
var domainRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// pathSafe reports whether s is only letters, digits, '-' and '_'.
func pathSafe(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// schedule reads "<duration>" or "<duration>@HH:MM" (a time of day, UTC).
func (p *parser) schedule(name string, every, at *time.Duration) {
	v, ok := p.lookup(name)
	if !ok {
		return
	}
	d, clock, hasAt := strings.Cut(v, "@")
	e, err := time.ParseDuration(d)
	if err != nil {
		p.fail(name, v, "must be a duration, optionally with a time of day (UTC), such as 24h or 24h@09:00")
		return
	}
	if hasAt {
		t, err := time.Parse("15:04", clock)
		if err != nil {
			p.fail(name, v, "the time of day after @ must be HH:MM (UTC), such as 24h@09:00")
			return
		}
		*at = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	*every = e
}

// check records a problem unless the variable already failed to parse.
func (p *parser) check(name string, ok bool, why string) {
	if ok || p.bad[name] {
		return
	}
	raw := p.getenv(name)
	p.fail(name, raw, why)
}

var langRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// ecdsaPublicKey reports whether b64 is a base64 DER (PKIX) ECDSA public key,
// the form SendGrid shows for the signed Event Webhook (the check
// webhook.ParsePublicKey makes; config stays below webhook).
func ecdsaPublicKey(b64 string) bool {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return false
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return false
	}
	_, ok := key.(*ecdsa.PublicKey)
	return ok
}
