package web

import (
	"crypto/rand"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/token"
)

// Security is the web layer's abuse and hardening settings.
type Security struct {
	// SubmitRate is letters per minute per client IP (0 = no limit),
	// SubmitBurst how many may come at once (default 3).
	SubmitRate  int
	SubmitBurst int
	// TrustedProxies are the networks whose X-Forwarded-For is believed;
	// none: the client IP is the connection's address.
	TrustedProxies []*net.IPNet
	// CORSOrigins may call /api/v1 from a browser (none: no CORS headers).
	CORSOrigins []string
	// EmbedOrigins may frame the embeddable form, /c/{slug}/embed
	// (Content-Security-Policy: frame-ancestors); every other page, and
	// the embed too when none is set, refuses to be framed.
	EmbedOrigins []string
	// FormSecret signs the form's render time (required).
	FormSecret []byte
	// FormMinTime is the least time between rendering the form and a
	// human submitting it; FormMaxAge is when a rendered form expires.
	FormMinTime time.Duration
	FormMaxAge  time.Duration
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// Request bodies on public routes are bounded. A letter at its limits,
// URL-encoded with every character a 4-byte one, is about 66 KB.
const (
	bodyLimit      = "128K"
	bodyLimitBytes = 128 << 10
)

const csrfCookie = "outcry_csrf"

func (s *Server) now() time.Time {
	if s.d.Security.Now != nil {
		return s.d.Security.Now()
	}
	return time.Now()
}

// securityHeaders sets strict headers on every response. The pages load
// only their own stylesheet, script and images; nothing is inline.
func (s *Server) securityHeaders() echo.MiddlewareFunc {
	hsts := 0
	if strings.HasPrefix(s.d.BaseURL, "https://") {
		hsts = 31536000
	}
	ancestors := "'none'"
	if len(s.d.Security.EmbedOrigins) > 0 {
		ancestors = strings.Join(s.d.Security.EmbedOrigins, " ")
	}
	secure := func(img string, embed bool) echo.MiddlewareFunc {
		xfo, fa := "DENY", "'none'"
		if embed {
			// X-Frame-Options cannot name several sites: frame-ancestors
			// alone decides for the embed.
			xfo, fa = "", ancestors
		}
		return middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff: "nosniff",
			XFrameOptions:      xfo,
			HSTSMaxAge:         hsts,
			ReferrerPolicy:     "strict-origin-when-cross-origin",
			ContentSecurityPolicy: "default-src 'self'; img-src " + img + "; style-src 'self'; script-src 'self'; " +
				"form-action 'self'; frame-ancestors " + fa + "; base-uri 'none'; object-src 'none'",
		})
	}
	local, localEmbed := secure("'self' data:", false), secure("'self' data:", true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		plain, plainEmbed := local(next), localEmbed(next)
		return func(c echo.Context) error {
			embed := isEmbedRoute(c.Path())
			// A campaign image hosted elsewhere is allowed on that
			// campaign's pages only.
			if camp, ok := s.d.Campaigns.Get(c.Param("slug")); ok {
				if u, err := url.Parse(camp.Image.Src); err == nil && u.Scheme == "https" && u.Host != "" {
					return secure("'self' data: https://"+u.Host, embed)(next)(c)
				}
			}
			if embed {
				return plainEmbed(c)
			}
			return plain(c)
		}
	}
}

// ipExtractor trusts X-Forwarded-For only from the configured proxies.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// submitLimit limits letter submissions per client IP; nil when off.
func (s *Server) submitLimit() echo.MiddlewareFunc {
	perMin := s.d.Security.SubmitRate
	if perMin <= 0 {
		return nil
	}
	burst := s.d.Security.SubmitBurst
	if burst <= 0 {
		burst = 3
	}
	retryAfter := strconv.Itoa(int(math.Ceil(60 / float64(perMin))))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               newClientLimits(float64(perMin)/60, burst, 3*time.Minute),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			s.log.Info("submission rate limit reached", "path", c.Request().URL.Path)
			if camp, sub, ok := s.typedForm(c); ok {
				// A person's letter is never lost: the form again, as typed.
				return s.reRender(c, camp, http.StatusTooManyRequests, sub, nil, s.d.Messages.T("form.rate_limited"))
			}
			return echo.NewHTTPError(http.StatusTooManyRequests,
				"Too many letters were sent from your network in a short time. Please wait a minute and try again.")
		},
	})
}

// csrf guards the HTML form with a double-submit cookie: the form carries
// the token in its hidden "csrf" field, the cookie holds the same value.
// A SameSite=Lax, HttpOnly cookie is not sent with a cross-site POST.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:csrf",
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieMaxAge:   86400,
		CookieSecure:   s.secureCookies(),
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		// A browser that says a POST is cross-site or same-site still needs the token.
		AllowSecFetchSiteFunc: func(echo.Context) (bool, error) { return false, nil },
		ErrorHandler:          s.csrfFailed,
	})
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.d.BaseURL, "https://") }

// csrfToken is the token for the form being rendered: the middleware's, or
// (when re-rendering after a failed check) the cookie's or a new one.
func (s *Server) csrfToken(c echo.Context) string {
	if t, ok := c.Get("csrf").(string); ok && t != "" {
		return t
	}
	if k, err := c.Cookie(csrfCookie); err == nil && k.Value != "" && len(k.Value) <= 64 {
		return k.Value
	}
	t := rand.Text()
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: t, Path: "/", MaxAge: 86400, Secure: s.secureCookies(),
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	c.Set("csrf", t)
	return t
}

// requireJSON refuses an API write that is not JSON (415): a browser cannot
// send application/json cross-site without a CORS preflight.
func requireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
		if err != nil || mt != echo.MIMEApplicationJSON {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).")
		}
		return next(c)
	}
}

// cors lets the configured origins call /api/v1 from a browser.
func (s *Server) cors() echo.MiddlewareFunc {
	if len(s.d.Security.CORSOrigins) == 0 {
		return nil
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper:      func(c echo.Context) bool { return !strings.HasPrefix(c.Request().URL.Path, "/api/v1/") },
		AllowOrigins: s.d.Security.CORSOrigins,
		AllowMethods: []string{http.MethodGet, http.MethodPost},
		AllowHeaders: []string{echo.HeaderContentType},
		MaxAge:       3600,
	})
}

// Form stamps: the time the form was rendered, signed so that a bot cannot
// pretend it took its time. "<unix ms>.<base64url HMAC-SHA256>".

func (s *Server) stamp(t time.Time) string {
	return token.Sign(s.d.Security.FormSecret, stampPurpose, strconv.FormatInt(t.UnixMilli(), 10))
}

const stampPurpose = "outcry form stamp"

type stampCheck int

const (
	stampOK      stampCheck = iota
	stampMissing            // no stamp: re-render and ask again
	stampForged             // not signed by us: a bot
	stampTooFast            // sooner than a person could write: a bot
	stampExpired            // an old page: re-render and ask again
)

func (s *Server) checkStamp(v string) stampCheck {
	if v == "" {
		return stampMissing
	}
	ms, ok := token.Verify(s.d.Security.FormSecret, stampPurpose, v)
	if !ok || len(v) > 100 {
		return stampForged
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return stampForged
	}
	age := s.now().Sub(time.UnixMilli(n))
	maxAge := s.d.Security.FormMaxAge
	if maxAge <= 0 {
		maxAge = 24 * time.Hour
	}
	switch {
	case age < s.d.Security.FormMinTime:
		return stampTooFast
	case age > maxAge:
		return stampExpired
	}
	return stampOK
}

// typedForm reads the letter form of a POST to the campaign page that a
// middleware refuses (bounded like the form itself), to show it again.
func (s *Server) typedForm(c echo.Context) (*campaign.Campaign, letter.Submission, bool) {
	r := c.Request()
	camp, ok := s.d.Campaigns.Get(c.Param("slug"))
	if r.Method != http.MethodPost || c.Path() != "/c/:slug" || !ok {
		return nil, letter.Submission{}, false
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, bodyLimitBytes)
	form, err := c.FormParams()
	if err != nil {
		return nil, letter.Submission{}, false
	}
	return camp, letter.FromForm(form), true
}

// headAsGet answers HEAD wherever GET is served (uptime monitors use HEAD):
// the request is routed and handled as a GET, and its body is dropped.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodHead {
			return next(c)
		}
		res := c.Response()
		w := res.Writer
		r.Method, res.Writer = http.MethodGet, headWriter{w}
		defer func() { r.Method, res.Writer = http.MethodHead, w }()
		return next(c)
	}
}

// headWriter keeps the status and headers of a response and drops its body.
type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(p []byte) (int, error)   { return len(p), nil }
func (h headWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }
