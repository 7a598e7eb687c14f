package config

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// Safety holds the abuse, confirmation and privacy settings.
type Safety struct {
	SubmitRate     int          // OUTCRY_SUBMIT_RATE: letters per minute per client IP, 0 = off
	TrustedProxies []*net.IPNet // OUTCRY_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For is believed
	CORSOrigins    []string     // OUTCRY_CORS_ORIGINS: origins allowed to call /api/v1 from a browser
	EmbedOrigins   []string     // OUTCRY_EMBED_ORIGINS: sites allowed to frame /c/{slug}/embed (issue 23)
	FormSecret     string       // OUTCRY_FORM_SECRET: HMAC key for form stamps and links ("" = kept in the database)
	FormMinTime    time.Duration
	Confirm        bool          // OUTCRY_CONFIRM: double opt-in by email
	ConfirmTTL     time.Duration // OUTCRY_CONFIRM_TTL
	RetentionDays  int           // OUTCRY_RETENTION_DAYS: 0 = keep letter text
}

func defaultSafety() Safety {
	return Safety{SubmitRate: 10, FormMinTime: 3 * time.Second, ConfirmTTL: 48 * time.Hour, RetentionDays: 90}
}

func (p *parser) safety(s *Safety) {
	p.int("OUTCRY_SUBMIT_RATE", &s.SubmitRate)
	p.check("OUTCRY_SUBMIT_RATE", s.SubmitRate >= 0 && s.SubmitRate <= 100000, "must be 0 (off) or a positive whole number of letters per minute")

	var raw string
	p.str("OUTCRY_TRUSTED_PROXIES", &raw)
	for _, part := range splitList(raw) {
		if !strings.Contains(part, "/") { // a single address
			if strings.Contains(part, ":") {
				part += "/128"
			} else {
				part += "/32"
			}
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			p.fail("OUTCRY_TRUSTED_PROXIES", raw, "must be comma-separated CIDRs such as 10.0.0.0/8,::1/128")
			break
		}
		s.TrustedProxies = append(s.TrustedProxies, n)
	}

	raw = ""
	p.str("OUTCRY_CORS_ORIGINS", &raw)
	for _, o := range splitList(raw) {
		u, err := url.Parse(o)
		if o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "") {
			p.fail("OUTCRY_CORS_ORIGINS", raw, "must be comma-separated origins such as https://example.org")
			break
		}
		s.CORSOrigins = append(s.CORSOrigins, strings.TrimRight(o, "/"))
	}

	raw = ""
	p.str("OUTCRY_EMBED_ORIGINS", &raw)
	for _, o := range splitList(raw) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			p.fail("OUTCRY_EMBED_ORIGINS", raw, "must be comma-separated origins such as https://partner.example (no *, no path)")
			break
		}
		s.EmbedOrigins = append(s.EmbedOrigins, u.Scheme+"://"+strings.ToLower(u.Host))
	}

	p.str("OUTCRY_FORM_SECRET", &s.FormSecret)
	p.check("OUTCRY_FORM_SECRET", s.FormSecret == "" || len(s.FormSecret) >= 16, "must be at least 16 characters (or unset)")
	p.duration("OUTCRY_FORM_MIN_TIME", &s.FormMinTime)
	p.check("OUTCRY_FORM_MIN_TIME", s.FormMinTime >= 0 && s.FormMinTime <= time.Minute, "must be between 0s and 1m")
	p.bool("OUTCRY_CONFIRM", &s.Confirm)
	p.duration("OUTCRY_CONFIRM_TTL", &s.ConfirmTTL)
	p.check("OUTCRY_CONFIRM_TTL", s.ConfirmTTL >= 10*time.Minute, "must be a duration of at least 10m, such as 48h")
	p.int("OUTCRY_RETENTION_DAYS", &s.RetentionDays)
	p.check("OUTCRY_RETENTION_DAYS", s.RetentionDays >= 0, "must be 0 (keep) or a positive whole number of days")
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
