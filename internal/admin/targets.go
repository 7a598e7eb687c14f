package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/target"
)

// The targets pages (/admin/targets): targets.yaml edited in the browser.

type targetsData struct {
	Targets  []TargetFigures
	Domains  []delivery.DomainUse // each receiving domain's use of OUTCRY_DOMAIN_HOURLY_CAP
	Form     target.Target
	Problems []string
	File     string
}

type targetData struct {
	T        target.Target
	Problems []string
	// The back-off (issue 28 §4): the hourly cap, the allowance when it
	// is reduced (0: not), the state and the latest steps, newest first.
	Cap       int
	Allowance int
	Pushback  pushback.State
	Steps     []pushback.Step
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
		targetsData{Targets: ts, Domains: c.domainUses(), Form: form, Problems: problems, File: c.d.Targets.Path()}))
}

// domainUses is every receiving domain of the targets with its use of the
// domain cap in the past hour, as this instance's sender counts it (none
// when the cap is off).
func (c *Console) domainUses() []delivery.DomainUse {
	if c.d.Sender == nil {
		return nil
	}
	used := c.d.Sender.DomainUses()
	if len(used) == 0 && c.d.Sender.DomainCap() <= 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, u := range used {
		seen[u.Domain] = true
	}
	for _, t := range c.d.Targets.Current().All {
		if d := delivery.Domain(t.Email); d != "" && !seen[d] {
			seen[d] = true
			used = append(used, delivery.DomainUse{Domain: d, Cap: c.d.Sender.DomainCap()})
		}
	}
	return used
}

func targetForm(ctx echo.Context) target.Target {
	return target.Target{
		ID:         strings.TrimSpace(ctx.FormValue("id")),
		Name:       ctx.FormValue("name"),
		Title:      ctx.FormValue("title"),
		Email:      strings.TrimSpace(ctx.FormValue("email")),
		Salutation: ctx.FormValue("salutation"),
		Active:     ctx.FormValue("active") != "",
		Areas:      target.ParseAreasText(ctx.FormValue("areas")),
		Fields:     target.ParseFieldsText(ctx.FormValue("fields")),
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
	t, err := c.svc.addTarget(ctx.Request().Context(), targetForm(ctx))
	var taken *IDTakenError
	if errors.As(err, &taken) {
		return c.renderTargets(ctx, http.StatusUnprocessableEntity, t, []string{taken.Error()})
	}
	if err != nil {
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
	d, err := c.svc.targetBackoff(ctx.Request().Context(), t.ID)
	if err != nil {
		return err
	}
	d.T = t
	return c.render(ctx, http.StatusOK, "target", c.newView(ctx, "Edit "+t.Name, "targets", d))
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
		d, berr := c.svc.targetBackoff(ctx.Request().Context(), id)
		if berr != nil {
			return berr
		}
		d.T, d.Problems = t, problemList(err)
		return c.render(ctx, http.StatusUnprocessableEntity, "target", c.newView(ctx, "Edit "+id, "targets", d))
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
	if ctx.Param("action") == "remove" {
		return c.removeTarget(ctx, id)
	}
	var err error
	flash := ""
	switch ctx.Param("action") {
	case "activate":
		err, flash = c.svc.setActive(id, true), "activated"
	case "deactivate":
		err, flash = c.svc.setActive(id, false), "deactivate"
	case "pause":
		err, flash = c.svc.pauseTarget(rc, id, true), "tpaused"
	case "resume":
		err, flash = c.svc.pauseTarget(rc, id, false), "tresumed"
	case "clear-attention":
		err, flash = c.svc.clearAttention(rc, id), "cleared"
	case "retry-failed":
		err, flash = c.svc.retryFailed(rc, id), "tretried"
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
