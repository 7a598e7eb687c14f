package admin

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Logging in and out.

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
