package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"golang.org/x/text/unicode/norm"
)

// SendGridConfig configures the SendGrid mailer. Zero values take the
// defaults in parentheses.
type SendGridConfig struct {
	APIKey    string
	BaseURL   string // API host (https://api.sendgrid.com)
	FromEmail string // verified sender address
	FromName  string // shown as "<supporter> via <FromName>"
	Sandbox   bool   // ask SendGrid to validate but not deliver
	Timeout   time.Duration
}

// MaxRequestBytes is SendGrid's limit on one mail/send request (30 MB),
// counted as the JSON sent.
const MaxRequestBytes = 30_000_000

// SendGrid sends messages through the SendGrid v3 mail API. It is safe for
// concurrent use: each Send builds its own request and all share one
// HTTP client (and its connection pool).
type SendGrid struct {
	cfg    SendGridConfig
	client *rest.Client
}

// NewSendGrid returns a SendGrid mailer.
func NewSendGrid(cfg SendGridConfig) *SendGrid {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.sendgrid.com"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	// The default transport keeps only two idle connections per host, which
	// would make concurrent workers reconnect on almost every send.
	transport := http.DefaultTransport
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		t.MaxIdleConnsPerHost = 64
		transport = t
	}
	return &SendGrid{
		cfg:    cfg,
		client: &rest.Client{HTTPClient: &http.Client{Timeout: cfg.Timeout, Transport: transport}},
	}
}

// Name implements Mailer.
func (s *SendGrid) Name() string { return "sendgrid" }

// Send implements Mailer. Failures are *SendError, except a cancelled ctx,
// which is returned (wrapped) as is.
func (s *SendGrid) Send(ctx context.Context, m Message) (string, error) {
	body, err := json.Marshal(s.buildMail(m))
	if err != nil {
		return "", &SendError{Kind: Permanent, Msg: "sendgrid: encode mail: " + err.Error()}
	}
	// SendGrid refuses a message over 30 MB. A digest is bounded below
	// that when it is rendered (OUTCRY_DIGEST_MAX_BYTES); this is the last
	// guard, so that no request over the limit is ever made.
	if len(body) > MaxRequestBytes {
		return "", &SendError{Kind: Permanent, Status: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("sendgrid: request of %d bytes is over SendGrid's limit of %d; not sent", len(body), MaxRequestBytes)}
	}
	// A fresh request each time: rest.Request carries the body, so a shared
	// one (as in sendgrid.Client) would race between workers. The library's
	// 429 retry is not used: the sender owns retries and the rate.
	req := sendgrid.GetRequest(s.cfg.APIKey, "/v3/mail/send", s.cfg.BaseURL)
	req.Method = rest.Post
	req.Body = body
	resp, err := s.client.SendWithContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("sendgrid: send: %w", ctx.Err())
		}
		return "", &SendError{Kind: Temporary, Msg: "sendgrid: send: " + err.Error()}
	}
	return sgClassify(resp)
}

// buildMail builds the v3 mail for m.
func (s *SendGrid) buildMail(m Message) *mail.SGMailV3 {
	fromName := sgSafeName(s.cfg.FromName)
	if sup := sgSafeName(m.SupporterName); sup != "" {
		if fromName == "" {
			fromName = sup
		} else {
			fromName = sup + " via " + fromName
		}
	}
	v3 := mail.NewV3MailInit(
		mail.NewEmail(sgFromName(fromName), sgCleanAddress(s.cfg.FromEmail)),
		sgCleanName(m.Subject),
		mail.NewEmail(sgSafeName(m.TargetName), sgCleanAddress(m.TargetEmail)),
		mail.NewContent("text/plain", m.Body),
	)
	v3.SetReplyTo(mail.NewEmail(sgSafeName(m.SupporterName), sgCleanAddress(m.SupporterEmail)))
	for k, v := range m.Headers {
		v3.SetHeader(sgCleanName(k), sgCleanName(v))
	}
	v3.SetCustomArg("outcry_id", m.PublicID)
	v3.AddCategories(sgCleanName(m.Campaign))
	if s.cfg.Sandbox {
		v3.SetMailSettings(mail.NewMailSettings().SetSandboxMode(mail.NewSetting(true)))
	}
	return v3
}

// sgCleanName makes s safe as a header value: control characters (CR, LF,
// tab, NUL, C1…) and Unicode line/paragraph separators become spaces, and
// runs of spaces collapse to one.
func sgCleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		// Invisible and direction-changing characters (U+202E…) are
		// refused in names at the form; rows stored before that lose
		// them here. The joiners stay, as some scripts need them.
		if unicode.Is(unicode.Cf, r) && r != '\u200C' && r != '\u200D' {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// sgCleanAddress drops control characters and spaces from an address.
func sgCleanAddress(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// sgSafeName is a name as SendGrid may receive it: header-safe
// (sgCleanName), without ',' and ';' (SendGrid's limitations: to, cc and bcc
// names cannot contain them; it splits the header there) and without '<',
// '>' and '"', with which a name such as "Ann <ceo@netflix.com>" poses as
// an address. The letter's text keeps the name as typed.
func sgSafeName(s string) string {
	return sgCleanName(strings.Map(func(r rune) rune {
		if strings.ContainsRune(`,;<>"`, r) {
			return ' '
		}
		return r
	}, s))
}

// sgFromName is the from name as SendGrid requires it: its limitations
// say Unicode is not supported in the from field. Accents are dropped
// where that leaves a plain letter (NFKD without the combining marks:
// "Zoë" becomes "Zoe"); a name still not ASCII ("李") is sent as an
// RFC 2047 encoded word, which is ASCII and which mail programs show as
// the name.
func sgFromName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFKD.String(s))
	s = norm.NFC.String(s)
	return mime.QEncoding.Encode("utf-8", s)
}

// sgClassify turns SendGrid's answer into a provider id or a
// *SendError. rest returns a nil error for every HTTP status.
func sgClassify(resp *rest.Response) (string, error) {
	h := http.Header(resp.Headers)
	st := resp.StatusCode
	switch {
	case st >= 200 && st < 300:
		return h.Get("X-Message-Id"), nil
	case st == http.StatusTooManyRequests:
		e := &SendError{Kind: RateLimited, Status: st, Msg: "sendgrid: rate limited"}
		if reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && reset > 0 {
			e.RetryAt = time.Unix(reset, 0)
		}
		return "", e
	case st == http.StatusBadRequest || st == http.StatusRequestEntityTooLarge:
		return "", &SendError{Kind: Permanent, Status: st, Msg: "sendgrid: " + sgErrorMessages(resp.Body),
			TooLarge: st == http.StatusRequestEntityTooLarge || sgSizeRefusal(resp.Body)}
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return "", &SendError{Kind: Unauthorized, Status: st, Msg: "sendgrid: " + sgErrorMessages(resp.Body)}
	default:
		return "", &SendError{Kind: Temporary, Status: st, Msg: "sendgrid: " + sgErrorMessages(resp.Body)}
	}
}

// sgMaxErrorBody bounds how much of an unparsable error body is kept.
const sgMaxErrorBody = 200

// sgErrorMessages joins the messages of a SendGrid error document
// {"errors":[{"message":…,"field":…}]}, or returns the start of body.
func sgErrorMessages(body string) string {
	var doc struct {
		Errors []struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err == nil && len(doc.Errors) > 0 {
		msgs := make([]string, 0, len(doc.Errors))
		for _, e := range doc.Errors {
			if e.Field != "" {
				msgs = append(msgs, e.Field+": "+e.Message)
			} else {
				msgs = append(msgs, e.Message)
			}
		}
		return sgTruncate(strings.Join(msgs, "; "), 4*sgMaxErrorBody)
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return "no error detail"
	}
	return sgTruncate(body, sgMaxErrorBody)
}

// sgSizeRefusal reports whether a 400's error document refuses the request
// for its size without naming a field (a 400 that names a field is about
// that field, and is recorded as it is).
func sgSizeRefusal(body string) bool {
	var doc struct {
		Errors []struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || len(doc.Errors) == 0 {
		return false
	}
	size := false
	for _, e := range doc.Errors {
		if e.Field != "" {
			return false
		}
		m := strings.ToLower(e.Message)
		size = size || strings.Contains(m, "too large") || strings.Contains(m, "size") || strings.Contains(m, "exceed")
	}
	return size
}

// sgTruncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func sgTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
