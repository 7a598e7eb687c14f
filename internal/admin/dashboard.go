package admin

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/outbox"
)

// The dashboard (/admin) and the live controls: pause and resume sending.

type dashboardData struct {
	Stats       *Stats
	Chart       any
	DryRunLinks []confirm.DryRunLink
	Plans       []targetPlan // how each target's waiting letters will go (delivery modes)
	// The campaign's sending window (issue 28): "" when it sends at any
	// time; Opens is when it next opens, when closed now.
	Hours string
	Opens string
}

// targetPlan is one target's line of the delivery estimate.
type targetPlan struct {
	Name string
	outbox.TargetPlan
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
	plans, err := c.svc.plans(rc, camp.Slug)
	if err != nil {
		return err
	}
	d := dashboardData{Stats: st, Chart: hourlyChart(hours), DryRunLinks: c.dryRunLinks(), Plans: plans}
	if w := camp.Window(); !w.Always() {
		d.Hours, d.Opens = w.String(), w.Describe(time.Now())
	}
	return c.render(ctx, http.StatusOK, "dashboard", c.newView(ctx, "Dashboard", "dashboard", d))
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
