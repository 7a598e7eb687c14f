package admin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
)

// The console's frame: the view every page renders, access (sessions,
// CSRF, the API token) and small helpers.

// view is what every console page template sees.
type view struct {
	Title     string
	Nav       string
	CSRF      string
	Campaign  *campaign.Campaign   // the campaign the console works on
	Campaigns []*campaign.Campaign // every campaign (the switcher)
	Paused    bool
	PauseWhy  string
	Flash     string
	Error     string
	D         any
	Mode      modeBanner // dry run, sandbox, and what stands in the way of going live
}

var flashes = map[string]string{
	"published":     "The reply is published: every writer of that digest sees it on their receipt, and those who agreed to updates get one email about it.",
	"accepted":      "The reply is accepted: a reply to one letter is forwarded to its writer; one to a digest can now be published.",
	"declined":      "The reply is kept here and goes no further.",
	"undecided":     "That reply was decided already (here or on another instance); nothing changed.",
	"link-revoked":  "The reading link is revoked: it no longer opens the page. Reissue it to give the target a new one.",
	"link-reissued": "A new reading link is issued; every earlier link no longer works. New digests carry the new one.",
	"targeting":     "Targeting saved; it is in force now.",
	"paused":        "Sending is paused. Letters are still accepted and wait in the queue.",
	"resumed":       "Sending has resumed.",
	"saved":         "Targets saved; the change is in force now on this instance, and within seconds on any other.",
	"removed":       "Target removed from the file. Its messages stay in the send log.",
	"tpaused":       "Sending to this target is paused.",
	"tresumed":      "Sending to this target has resumed.",
	"cleared":       "The needs-attention flag is cleared.",
	"tretried":      "Failed messages to this target are queued again.",
	"retried":       "The message is queued again.",
	"cancelled":     "The message is cancelled.",
	"notfailed":     "Only a failed message can be retried.",
	"notqueued":     "Only a queued message can be cancelled.",
	"letter":        "Default letter saved. New letters start from it; letters already written keep their text.",
	"lreverted":     "The campaign file's letter is in force again. New letters start from it; letters already written keep their text.",
	"loggedout":     "You are logged out.",
	"activated":     "Target activated: it receives letters written from now on.",
	"deactivate":    "Target deactivated: it receives no new letters.",
	"erased":        "Erased: the supporter's personal data and letter text are gone; the counts and the record that letters were sent remain.",
	"noneerased":    "Nothing is held about this address: nothing was erased.",
	"created":       "Campaign created: its page takes letters now.",
	"csaved":        "Campaign saved; the change is in force now.",
	"copen":         "The campaign is open: it takes letters and sends them.",
	"cpaused":       "The campaign is paused: it takes letters and queues them; nothing of it is sent until you open it again.",
	"cclosed":       "The campaign is closed: its page shows the result and takes no more letters. Letters already queued are still sent.",
	"reverted":      "The campaign's content comes from the campaign file again.",
	"whtest":        "A test event is queued: it is sent within seconds, and its attempt shows below.",
	"whenabled":     "The webhook endpoint is enabled: new events are delivered to it again.",
	"whdisabled":    "The webhook endpoint is disabled: it receives no new events.",
	"whdeleted":     "The webhook endpoint is deleted, with its deliveries.",
	"cimage":        "Image saved: the page and its link preview show it now.",
}

func (c *Console) newView(ctx echo.Context, title, nav string, d any) *view {
	v := &view{Title: title, Nav: nav, Campaign: c.current(ctx), Campaigns: c.d.Campaigns.All(), D: d, Flash: flashes[ctx.QueryParam("ok")]}
	if sid, ok := ctx.Get("sid").(string); ok {
		v.CSRF = c.auth.csrf(sid)
	}
	v.Paused, v.PauseWhy = c.d.Sender.Paused()
	if v.Paused && ctx.QueryParam("ok") == "paused" && nav != "" {
		v.Flash = "" // the paused banner says it, once (issue 26)
	}
	v.Mode = c.modeBanner()
	return v
}

func (c *Console) render(ctx echo.Context, status int, name string, v *view) error {
	var b strings.Builder
	if err := c.pages[name].ExecuteTemplate(&b, "layout", v); err != nil {
		return fmt.Errorf("admin: render %s: %w", name, err)
	}
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.HTML(status, b.String())
}

func (c *Console) redirect(ctx echo.Context, path, flash string) error {
	if flash != "" {
		path += "?ok=" + flash
	}
	return ctx.Redirect(http.StatusSeeOther, path)
}

func (c *Console) requireEnabled(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ctx echo.Context) error {
		if !c.auth.enabled() {
			return c.render(ctx, http.StatusForbidden, "disabled", c.newView(ctx, "Console disabled", "", nil))
		}
		return next(ctx)
	}
}

func (c *Console) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ctx echo.Context) error {
		sid, ok, err := c.session(ctx)
		if err != nil {
			return err
		}
		if ctx.Request().Method == http.MethodGet || ctx.Request().Method == http.MethodHead {
			if !ok {
				return ctx.Redirect(http.StatusSeeOther, "/admin/login")
			}
			ctx.Set("sid", sid)
			return next(ctx)
		}
		if !ok || !c.auth.checkCSRF(sid, csrfToken(ctx)) {
			return c.forbidden(ctx)
		}
		ctx.Set("sid", sid)
		return next(ctx)
	}
}

// csrfHeader carries the console's CSRF token for scripted posts.
const csrfHeader = "X-CSRF-Token"

// csrfToken is the CSRF token of a console post: from the form body or the
// X-CSRF-Token header, never from the query string (which lands in logs,
// history and Referer headers).
func csrfToken(ctx echo.Context) string {
	if v := ctx.Request().PostFormValue("csrf"); v != "" {
		return v
	}
	return ctx.Request().Header.Get(csrfHeader)
}

// session returns the id of the request's console session: a cookie that
// verifies, has not expired, and whose session is still recorded (logout
// removes it, so a copy of the cookie taken before is worthless).
func (c *Console) session(ctx echo.Context) (string, bool, error) {
	ck, err := ctx.Cookie(sessionCookie)
	if err != nil {
		return "", false, nil
	}
	sid, ok := c.auth.session(ck.Value)
	if !ok {
		return "", false, nil
	}
	live, err := c.d.Store.AdminSessionActive(ctx.Request().Context(), sid)
	if err != nil {
		return "", false, err
	}
	return sid, live, nil
}

func (c *Console) forbidden(ctx echo.Context) error {
	v := c.newView(ctx, "Form expired", "", nil)
	v.Error = "This form has expired or did not come from the console."
	return c.render(ctx, http.StatusForbidden, "expired", v)
}

func (c *Console) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ctx echo.Context) error {
		if c.d.Token == "" {
			return ctx.JSON(http.StatusNotFound, map[string]string{"error": "the admin API is off: set OUTCRY_ADMIN_TOKEN to enable it"})
		}
		if !tokenOK(ctx.Request().Header.Get("Authorization"), c.d.Token) {
			ctx.Response().Header().Set("WWW-Authenticate", `Bearer realm="outcry admin"`)
			return ctx.JSON(http.StatusUnauthorized, map[string]string{"error": "missing or wrong token: send Authorization: Bearer <OUTCRY_ADMIN_TOKEN>"})
		}
		err := next(ctx)
		if err == nil || ctx.Response().Committed {
			return err
		}
		// The API answers in JSON, also when something fails.
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return ctx.JSON(he.Code, errorAnswer{Error: he.Message})
		}
		c.log.Error("admin api failed", "path", ctx.Request().URL.Path, "err", err)
		return ctx.JSON(http.StatusInternalServerError, map[string]string{"error": "internal error; see the server log"})
	}
}

// clientIP is the address login attempts are counted by: the connection's
// peer, unless the server is configured with an IP extractor for a trusted
// proxy. (Echo's RealIP alone would trust any X-Forwarded-For header, and a
// guesser could then change address with every attempt.)
func clientIP(ctx echo.Context) string {
	if ctx.Echo().IPExtractor != nil {
		return ctx.RealIP()
	}
	host, _, err := net.SplitHostPort(ctx.Request().RemoteAddr)
	if err != nil {
		return ctx.Request().RemoteAddr
	}
	return host
}

func randomID() string { return rand.Text() }
