package admin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

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
}

var flashes = map[string]string{
	"paused":     "Sending is paused. Letters are still accepted and wait in the queue.",
	"resumed":    "Sending has resumed.",
	"saved":      "Targets saved to the file; the change is in force now.",
	"removed":    "Target removed from the file. Its messages stay in the send log.",
	"tpaused":    "Sending to this target is paused.",
	"tresumed":   "Sending to this target has resumed.",
	"cleared":    "The needs-attention flag is cleared.",
	"tretried":   "Failed messages to this target are queued again.",
	"retried":    "The message is queued again.",
	"cancelled":  "The message is cancelled.",
	"notfailed":  "Only a failed message can be retried.",
	"notqueued":  "Only a queued message can be cancelled.",
	"letter":     "Default letter saved. New letters start from it; letters already written keep their text.",
	"loggedout":  "You are logged out.",
	"activated":  "Target activated: it receives letters written from now on.",
	"deactivate": "Target deactivated: it receives no new letters.",
	"erased":     "Erased: the supporter's personal data and letter text are gone; the counts and the record that letters were sent remain.",
	"noneerased": "Nothing is held about this address: nothing was erased.",
	"created":    "Campaign created: its page takes letters now.",
	"csaved":     "Campaign saved; the change is in force now.",
	"copen":      "The campaign is open: it takes letters and sends them.",
	"cpaused":    "The campaign is paused: it takes letters and queues them; nothing of it is sent until you open it again.",
	"cclosed":    "The campaign is closed: its page shows the result and takes no more letters. Letters already queued are still sent.",
	"reverted":   "The campaign's content comes from the campaign file again.",
}

func (c *Console) newView(ctx echo.Context, title, nav string, d any) *view {
	v := &view{Title: title, Nav: nav, Campaign: c.current(ctx), Campaigns: c.d.Campaigns.All(), D: d, Flash: flashes[ctx.QueryParam("ok")]}
	if sid, ok := ctx.Get("sid").(string); ok {
		v.CSRF = c.auth.csrf(sid)
	}
	v.Paused, v.PauseWhy = c.d.Sender.Paused()
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

// --- access -----------------------------------------------------------------

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
			return ctx.JSON(he.Code, map[string]any{"error": he.Message})
		}
		c.log.Error("admin api failed", "path", ctx.Request().URL.Path, "err", err)
		return ctx.JSON(http.StatusInternalServerError, map[string]string{"error": "internal error; see the server log"})
	}
}

func (c *Console) loginPage(ctx echo.Context) error {
	if _, ok, err := c.session(ctx); err != nil {
		return err
	} else if ok {
		return ctx.Redirect(http.StatusSeeOther, "/admin")
	}
	return c.renderLogin(ctx, http.StatusOK, "")
}

// renderLogin issues a fresh login cookie whose id the form's token is tied to.
func (c *Console) renderLogin(ctx echo.Context, status int, msg string) error {
	nonce := randomID()
	ctx.SetCookie(c.auth.cookie(loginCookie, c.auth.signed("login", nonce), 3600))
	v := c.newView(ctx, "Log in", "", nil)
	v.CSRF, v.Error = c.auth.csrf("login:"+nonce), msg
	return c.render(ctx, status, "login", v)
}

func (c *Console) login(ctx echo.Context) error {
	if !c.auth.limiter.allow(clientIP(ctx)) {
		ctx.Response().Header().Set("Retry-After", strconv.Itoa(int(c.d.LoginEvery.Seconds()+0.5)))
		return c.renderLogin(ctx, http.StatusTooManyRequests, "Too many login attempts from your address. Wait a little and try again.")
	}
	ck, err := ctx.Cookie(loginCookie)
	nonce, ok := "", false
	if err == nil {
		nonce, ok = c.auth.verify("login", ck.Value)
	}
	if !ok || !c.auth.checkCSRF("login:"+nonce, csrfToken(ctx)) {
		return c.forbidden(ctx)
	}
	if !c.auth.checkPassword(ctx.FormValue("password")) {
		c.log.Warn("admin: failed login", "ip", clientIP(ctx))
		return c.renderLogin(ctx, http.StatusUnauthorized, "That password is not right.")
	}
	value, sid, expires := c.auth.newSession()
	if err := c.d.Store.CreateAdminSession(ctx.Request().Context(), sid, expires); err != nil {
		return err
	}
	ctx.SetCookie(c.auth.cookie(sessionCookie, value, int(sessionTTL.Seconds())))
	ctx.SetCookie(c.auth.cookie(loginCookie, "", -1))
	c.log.Info("admin: organizer logged in", "ip", clientIP(ctx))
	return ctx.Redirect(http.StatusSeeOther, "/admin")
}

func (c *Console) logout(ctx echo.Context) error {
	if sid, ok := ctx.Get("sid").(string); ok {
		if err := c.d.Store.EndAdminSession(ctx.Request().Context(), sid); err != nil {
			return err
		}
	}
	ctx.SetCookie(c.auth.cookie(sessionCookie, "", -1))
	return c.redirect(ctx, "/admin/login", "loggedout")
}

// --- dashboard and live controls ------------------------------------------

type dashboardData struct {
	Stats       *Stats
	Chart       any
	DryRunLinks []confirm.DryRunLink
}

func (c *Console) dashboard(ctx echo.Context) error {
	rc := ctx.Request().Context()
	camp := c.current(ctx)
	st, err := c.svc.stats(rc, camp.Slug)
	if err != nil {
		return err
	}
	hours, err := c.d.Store.LettersPerHour(rc, camp.Slug)
	if err != nil {
		return err
	}
	return c.render(ctx, http.StatusOK, "dashboard", c.newView(ctx, "Dashboard", "dashboard",
		dashboardData{Stats: st, Chart: hourlyChart(hours), DryRunLinks: c.dryRunLinks()}))
}

func (c *Console) pause(ctx echo.Context) error {
	if err := c.svc.pause(ctx.Request().Context()); err != nil {
		return err
	}
	return c.redirect(ctx, "/admin", "paused")
}

func (c *Console) resume(ctx echo.Context) error {
	if err := c.svc.resume(ctx.Request().Context()); err != nil {
		return err
	}
	return c.redirect(ctx, "/admin", "resumed")
}

// --- targets ----------------------------------------------------------------

type targetsData struct {
	Targets  []TargetFigures
	Form     target.Target
	Problems []string
	File     string
}

type targetData struct {
	T        target.Target
	Problems []string
}

func (c *Console) targetsPage(ctx echo.Context) error {
	return c.renderTargets(ctx, http.StatusOK, target.Target{Active: true}, nil)
}

func (c *Console) renderTargets(ctx echo.Context, status int, form target.Target, problems []string) error {
	ts, err := c.svc.targets(ctx.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ctx, status, "targets", c.newView(ctx, "Targets", "targets",
		targetsData{Targets: ts, Form: form, Problems: problems, File: c.d.Targets.Path()}))
}

func targetForm(ctx echo.Context) target.Target {
	return target.Target{
		ID:         strings.TrimSpace(ctx.FormValue("id")),
		Name:       ctx.FormValue("name"),
		Title:      ctx.FormValue("title"),
		Email:      strings.TrimSpace(ctx.FormValue("email")),
		Salutation: ctx.FormValue("salutation"),
		Active:     ctx.FormValue("active") != "",
	}
}

// problemList turns a refused save into lines for the page.
func problemList(err error) []string {
	var ps target.Problems
	if errors.As(err, &ps) {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.Msg
		}
		return out
	}
	return []string{err.Error()}
}

func (c *Console) addTarget(ctx echo.Context) error {
	t := targetForm(ctx)
	if err := c.svc.saveTarget("", t); err != nil {
		c.log.Warn("admin: target add refused", "err", err)
		return c.renderTargets(ctx, http.StatusUnprocessableEntity, t, problemList(err))
	}
	c.log.Info("admin: target added", "target", t.ID)
	return c.redirect(ctx, "/admin/targets", "saved")
}

func (c *Console) targetPage(ctx echo.Context) error {
	t, ok := c.d.Targets.Current().ByID(ctx.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no target with this id in the targets file.")
	}
	return c.render(ctx, http.StatusOK, "target", c.newView(ctx, "Edit "+t.Name, "targets", targetData{T: t}))
}

func (c *Console) editTarget(ctx echo.Context) error {
	id := ctx.Param("id")
	t := targetForm(ctx)
	t.ID = id // the id is stable: it names the target in the send log
	err := c.svc.saveTarget(id, t)
	if errors.Is(err, ErrUnknownTarget) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no target with this id in the targets file.")
	}
	if err != nil {
		c.log.Warn("admin: target edit refused", "target", id, "err", err)
		return c.render(ctx, http.StatusUnprocessableEntity, "target", c.newView(ctx, "Edit "+id, "targets",
			targetData{T: t, Problems: problemList(err)}))
	}
	c.log.Info("admin: target edited", "target", id)
	return c.redirect(ctx, "/admin/targets", "saved")
}

func (c *Console) targetAction(ctx echo.Context) error {
	rc := ctx.Request().Context()
	id := ctx.Param("id")
	if !target.ValidID(id) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no target with this id.")
	}
	var err error
	flash := ""
	switch ctx.Param("action") {
	case "activate":
		err, flash = c.svc.setActive(id, true), "activated"
	case "deactivate":
		err, flash = c.svc.setActive(id, false), "deactivate"
	case "remove":
		err, flash = c.svc.removeTarget(id), "removed"
	case "pause":
		err, flash = c.d.Store.SetTargetPaused(rc, id, true), "tpaused"
	case "resume":
		err, flash = c.d.Store.SetTargetPaused(rc, id, false), "tresumed"
		c.d.Sender.Notify()
	case "clear-attention":
		err, flash = c.d.Store.ClearNeedsAttention(rc, id), "cleared"
		c.d.Sender.Notify()
	case "retry-failed":
		_, err = c.d.Store.RetryFailed(rc, id)
		flash = "tretried"
		c.d.Sender.Notify()
	default:
		return echo.NewHTTPError(http.StatusNotFound, "Unknown action.")
	}
	if errors.Is(err, ErrUnknownTarget) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no target with this id in the targets file.")
	}
	if err != nil {
		var ps target.Problems
		if errors.As(err, &ps) {
			return c.renderTargets(ctx, http.StatusUnprocessableEntity, target.Target{Active: true}, problemList(err))
		}
		return err
	}
	c.log.Info("admin: target action", "target", id, "action", ctx.Param("action"))
	return c.redirect(ctx, "/admin/targets", flash)
}

// --- letter -----------------------------------------------------------------

type letterData struct {
	Subject, Body string
	Errors        letter.FieldErrors
	Targets       []target.Target
	PreviewFor    string
	Preview       string
	TestEmail     string
	Test          *TestResult
	TestError     string
}

func (c *Console) letterPage(ctx echo.Context) error {
	subject, body, err := c.svc.letterDefaults(ctx.Request().Context(), c.current(ctx).Slug)
	if err != nil {
		return err
	}
	d := letterData{Subject: subject, Body: body, PreviewFor: ctx.QueryParam("target"),
		TestEmail: c.current(ctx).Organizer.Contact}
	return c.renderLetter(ctx, http.StatusOK, d)
}

func (c *Console) renderLetter(ctx echo.Context, status int, d letterData) error {
	list := c.d.Targets.Current()
	d.Targets = list.All
	t, ok := list.ByID(d.PreviewFor)
	if !ok && len(list.All) > 0 {
		t = list.All[0]
		if a := list.Active(); len(a) > 0 {
			t = a[0]
		}
	}
	d.PreviewFor = t.ID
	if t.ID != "" {
		p, err := c.svc.preview(t, d.Body)
		if err != nil {
			return err
		}
		d.Preview = p
	}
	return c.render(ctx, status, "letter", c.newView(ctx, "Letter", "letter", d))
}

func (c *Console) letterPost(ctx echo.Context) error {
	subject, body, fe := checkLetter(ctx.FormValue("subject"), ctx.FormValue("body"))
	d := letterData{Subject: subject, Body: body, Errors: fe, PreviewFor: ctx.FormValue("target"),
		TestEmail: strings.TrimSpace(ctx.FormValue("test_email"))}
	if fe != nil {
		return c.renderLetter(ctx, http.StatusUnprocessableEntity, d)
	}
	rc := ctx.Request().Context()
	switch ctx.FormValue("action") {
	case "save":
		if _, err := c.d.Campaigns.Update(rc, c.current(ctx).Slug, campaign.Input{Subject: &subject, Body: &body}); err != nil {
			return err
		}
		c.log.Info("admin: default letter saved")
		return c.redirect(ctx, "/admin/letter", "letter")
	case "test":
		res, err := c.svc.testSend(rc, c.current(ctx).Slug, d.TestEmail, subject, body)
		if err != nil {
			d.TestError = err.Error()
			return c.renderLetter(ctx, http.StatusUnprocessableEntity, d)
		}
		d.Test = &res
		c.log.Info("admin: test send", "mailer", res.Mailer, "ok", res.Err == "")
		return c.renderLetter(ctx, http.StatusOK, d)
	default: // preview
		return c.renderLetter(ctx, http.StatusOK, d)
	}
}

// --- send log -----------------------------------------------------------------

const pageSize = 50

type messagesData struct {
	Rows    []store.MessageRow
	Filter  filterInput
	Bad     map[string]string
	Next    int64
	Targets []target.Target
	Query   string // the filter without the cursor, for links
}

// filterFrom reads the send log filter; the campaign is the console's
// current one unless the query says "all".
func (c *Console) filterFrom(ctx echo.Context) filterInput {
	camp := ctx.QueryParam("campaign")
	if camp != allCampaigns {
		camp = c.current(ctx).Slug
	}
	return filterInput{Campaign: camp, Status: ctx.QueryParam("status"), Target: ctx.QueryParam("target"), From: ctx.QueryParam("from"),
		To: ctx.QueryParam("to"), Email: ctx.QueryParam("email"), Before: ctx.QueryParam("before")}
}

func (in filterInput) query() string {
	q := url.Values{}
	// The console's own campaign is implicit (a cookie); the all-campaigns
	// view is kept in the links.
	camp := ""
	if in.Campaign == allCampaigns {
		camp = allCampaigns
	}
	for k, v := range map[string]string{"campaign": camp, "status": in.Status, "target": in.Target, "from": in.From, "to": in.To, "email": in.Email} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func (c *Console) messagesPage(ctx echo.Context) error {
	in := c.filterFrom(ctx)
	f, bad := c.svc.parseFilter(in, pageSize)
	// The target menu lists the file's targets: counting messages per
	// target would cost a scan of the log on every page.
	d := messagesData{Filter: in, Bad: bad, Query: in.query(), Targets: c.d.Targets.Current().All}
	rc := ctx.Request().Context()
	status := http.StatusOK
	if len(bad) > 0 {
		// Show the refused values back, bounded.
		status = http.StatusBadRequest
		d.Filter = in.bounded()
		d.Query = d.Filter.query()
	} else {
		rows, err := c.d.Store.Messages(rc, f)
		if err != nil {
			return err
		}
		d.Rows = rows
		if len(rows) == pageSize {
			d.Next = rows[len(rows)-1].ID
		}
	}
	v := c.newView(ctx, "Send log", "messages", d)
	if len(bad) > 0 {
		v.Error = "The filter is not valid: " + badList(bad)
	}
	return c.render(ctx, status, "messages", v)
}

func (c *Console) messagePage(ctx echo.Context) error {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such message.")
	}
	m, err := c.d.Store.Message(ctx.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such message.")
	}
	if err != nil {
		return err
	}
	if m.TargetEmail == "" { // not claimed yet: shown as it would be sent to the target as it is now
		if t, ok := c.d.Targets.Current().ByID(m.TargetID); ok {
			m.TargetName, m.TargetEmail = t.Name, t.Email
			m.Copy.TargetName, m.Copy.Title, m.Copy.Salutation = t.Name, t.Title, t.Salutation
		}
	}
	if m.Body, err = c.d.Renderer.Copy(m.Copy); err != nil {
		return err
	}
	return c.render(ctx, http.StatusOK, "message", c.newView(ctx, fmt.Sprintf("Message %d", id), "messages", m))
}

func (c *Console) messageAction(ctx echo.Context) error {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such message.")
	}
	rc := ctx.Request().Context()
	back := fmt.Sprintf("/admin/messages/%d", id)
	switch ctx.Param("action") {
	case "retry":
		ok, err := c.d.Store.RetryMessage(rc, id)
		if err != nil {
			return err
		}
		if !ok {
			return c.redirect(ctx, back, "notfailed")
		}
		c.d.Sender.Notify()
		return c.redirect(ctx, back, "retried")
	case "cancel":
		ok, err := c.d.Store.CancelMessage(rc, id)
		if err != nil {
			return err
		}
		if !ok {
			return c.redirect(ctx, back, "notqueued")
		}
		return c.redirect(ctx, back, "cancelled")
	}
	return echo.NewHTTPError(http.StatusNotFound, "Unknown action.")
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
