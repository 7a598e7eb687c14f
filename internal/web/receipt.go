package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/receipt"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/token"
)

// privatePage keeps a page that carries a receipt token out of caches and
// search engines, and its address out of the Referer of any link on it.
func privatePage(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}

// receiptPage is GET /c/{slug}/receipt/{token}: the writer's letter and,
// per decision-maker, what became of their copy.
func (s *Server) receiptPage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	privatePage(c)
	r, err := s.d.Receipts.Open(c.Request().Context(), camp.Slug, c.Param("token"))
	if err != nil && !errors.Is(err, receipt.ErrGone) {
		return receiptError(err)
	}
	p, perr := s.newPage(c.Request().Context(), camp)
	if perr != nil {
		return perr
	}
	if err != nil { // a signed link whose letter was erased or never confirmed
		return s.render(c, http.StatusGone, "receipt", p)
	}
	p.Receipt = &r
	for _, m := range r.Messages {
		since := m.UpdatedAt
		if m.Status == string(sendlog.Queued) || m.Status == string(sendlog.Unconfirmed) {
			since = m.QueuedAt
		}
		p.Copies = append(p.Copies, receiptCopy{TargetID: m.TargetID, TargetName: m.TargetName, Status: m.Status,
			Words: receipt.StatusWords(s.d.Messages, m.Status), Since: since})
	}
	names := map[string]string{}
	for _, m := range r.Messages {
		names[m.TargetID] = m.TargetName
	}
	if err := s.receiptResponses(c.Request().Context(), p, r.SupporterID, names); err != nil {
		return err
	}
	// Outside the campaign's sending hours, say when waiting copies go.
	if w := camp.Window(); !w.Open(time.Now()) {
		for _, m := range r.Messages {
			if m.Status == string(sendlog.Queued) {
				p.ReceiptWindow = s.d.Messages.T("receipt.window", "when", w.Describe(time.Now()))
				break
			}
		}
	}
	if s.d.Receipts.CanEmail() {
		p.EmailAction = c.Request().URL.Path + "/email"
	}
	switch c.QueryParam("emailed") {
	case "1":
		p.ReceiptNotice = s.d.Messages.T("receipt.emailed")
		if s.d.DryRun {
			p.ReceiptNotice = s.d.Messages.T("layout.trial")
		}
	case "soon":
		p.ReceiptNotice = s.tooSoon(r.CopySentAt, time.Now())
	case "failed":
		p.ReceiptNotice = s.d.Messages.T("receipt.email_failed")
	case "busy":
		p.ReceiptNotice = s.d.Messages.T("receipt.busy")
	case "unproven":
		p.ReceiptNotice = s.d.Messages.T("receipt.not_proven")
	}
	return s.render(c, http.StatusOK, "receipt", p)
}

// tooSoon says when the last copy went and when another may, from the
// time it was recorded (issue 26: the page said "a few minutes ago"
// seconds after the click).
func (s *Server) tooSoon(sent *time.Time, now time.Time) string {
	m := s.d.Messages
	if sent == nil {
		return m.T("receipt.too_soon", "ago", m.T("receipt.ago.unknown"), "next", m.T("receipt.next.unknown"))
	}
	ago := m.T("receipt.ago.now")
	if mins := int(now.Sub(*sent) / time.Minute); mins >= 1 {
		ago = m.N("receipt.ago.minutes", mins)
	}
	// Rounded up: "in 1 minute" while less than a minute is left.
	left := max(1, int((sent.Add(receipt.EmailEvery).Sub(now)+time.Minute-1)/time.Minute))
	return m.T("receipt.too_soon", "ago", ago, "next", m.N("receipt.next.minutes", left))
}

// emailReceipt is POST /c/{slug}/receipt/{token}/email: a copy of the
// letter with the receipt link, to the writer's own address. The token is
// the permission; the answer is a redirect back to the receipt page.
func (s *Server) emailReceipt(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	privatePage(c)
	tok := c.Param("token")
	err = s.d.Receipts.EmailCopy(c.Request().Context(), camp.Slug, tok, s.isWriter(c, tok))
	back := camp.Path() + "/receipt/" + tok + "?emailed="
	switch {
	case err == nil:
		back += "1"
	case errors.Is(err, receipt.ErrTooSoon):
		back += "soon"
	case errors.Is(err, receipt.ErrBusy):
		back += "busy"
	case errors.Is(err, receipt.ErrNotProven):
		back += "unproven"
	case errors.Is(err, receipt.ErrInvalid), errors.Is(err, receipt.ErrGone), errors.Is(err, receipt.ErrNoMail):
		return receiptError(err)
	default:
		s.log.Error("receipt: email a copy", "err", err)
		back += "failed"
	}
	return c.Redirect(http.StatusSeeOther, back)
}

func receiptError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, receipt.ErrInvalid):
		return echo.NewHTTPError(http.StatusNotFound, "There is no receipt at this address.")
	case errors.Is(err, receipt.ErrGone):
		return echo.NewHTTPError(http.StatusGone, "This letter is no longer held here.")
	case errors.Is(err, receipt.ErrNoMail):
		return echo.NewHTTPError(http.StatusNotFound, "Emailing a copy is not available.")
	}
	return err
}

// The writer's mark: the browser that wrote a letter may ask for one copy of
// it by email for receipt.FreshFor without confirming its address. The mark
// is a cookie, set with the thank-you redirect, signed with the form secret:
// "<supporter id>.<written unix ms>.<hash of the form's CSRF cookie>", so it
// counts only beside the same form cookie. It is SameSite=Strict and
// HttpOnly, kept to the campaign's path, and lives as long as it counts.
const (
	writerCookie  = "outcry_wrote"
	writerPurpose = "outcry wrote"
)

func (s *Server) markWriter(c echo.Context, campaignPath string, supporterID int64) {
	k, err := c.Cookie(csrfCookie)
	if err != nil || k.Value == "" {
		return
	}
	v := token.Sign(s.d.Security.FormSecret, writerPurpose,
		strconv.FormatInt(supporterID, 10)+"."+strconv.FormatInt(s.now().UnixMilli(), 10)+"."+linkHash(k.Value))
	c.SetCookie(&http.Cookie{Name: writerCookie, Value: v, Path: campaignPath + "/", MaxAge: int(receipt.FreshFor / time.Second),
		Secure: s.secureCookies(), HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// isWriter reports whether this request comes from the browser that wrote
// the receipt tok's letter less than receipt.FreshFor ago, with the form's
// cookie it wrote with.
func (s *Server) isWriter(c echo.Context, tok string) bool {
	id, err := s.d.Receipts.ID(tok)
	if err != nil {
		return false
	}
	mark, err1 := c.Cookie(writerCookie)
	form, err2 := c.Cookie(csrfCookie)
	if err1 != nil || err2 != nil {
		return false
	}
	payload, ok := token.Verify(s.d.Security.FormSecret, writerPurpose, mark.Value)
	parts := strings.Split(payload, ".")
	if !ok || len(parts) != 3 || parts[0] != strconv.FormatInt(id, 10) || parts[2] != linkHash(form.Value) {
		return false
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return false
	}
	age := s.now().Sub(time.UnixMilli(ms))
	return age >= -time.Minute && age < receipt.FreshFor
}
