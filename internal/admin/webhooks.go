package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/outhook"
	"github.com/outcry/outcry/internal/store"
)

// webhooksData is what templates/admin/webhooks.html shows: the endpoints,
// each with its latest attempts, the form to add one, and the secret of
// the one just added (shown once).
type webhooksData struct {
	Rows     []webhookRow
	Types    []hookevent.Type
	Form     webhookForm
	Errors   outhook.FieldErrors
	Created  *store.WebhookEndpoint
	Insecure bool
}

type webhookRow struct {
	E        store.WebhookEndpoint
	Attempts []store.WebhookAttemptRow
}

type webhookForm struct {
	URL, Campaign, Description string
	Events                     map[string]bool
	PersonalData               bool
}

// webhooksPage is GET /admin/webhooks.
func (c *Console) webhooksPage(ctx echo.Context) error {
	return c.renderWebhooks(ctx, http.StatusOK, webhookForm{}, nil, nil)
}

func (c *Console) renderWebhooks(ctx echo.Context, status int, form webhookForm, fe outhook.FieldErrors, created *store.WebhookEndpoint) error {
	rctx := ctx.Request().Context()
	es, err := c.d.Webhooks.List(rctx)
	if err != nil {
		return err
	}
	d := webhooksData{Types: hookevent.All, Form: form, Errors: fe, Created: created, Insecure: c.d.Webhooks.Insecure}
	for _, e := range es {
		a, err := c.d.Webhooks.Attempts(rctx, e.ID, 10)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, webhookRow{E: e, Attempts: a})
	}
	return c.render(ctx, status, "webhooks", c.newView(ctx, "Webhooks", "webhooks", d))
}

// createWebhook is POST /admin/webhooks: the new endpoint's secret is on
// the page it answers with, and never shown again.
func (c *Console) createWebhook(ctx echo.Context) error {
	form := webhookForm{URL: ctx.FormValue("url"), Campaign: ctx.FormValue("campaign"), Description: ctx.FormValue("description"),
		PersonalData: ctx.FormValue("personal_data") == "on", Events: map[string]bool{}}
	params, _ := ctx.FormParams()
	events := params["events"]
	for _, e := range events {
		form.Events[e] = true
	}
	in := outhook.Input{URL: &form.URL, Events: &events, Campaign: &form.Campaign, Description: &form.Description, PersonalData: &form.PersonalData}
	e, err := c.d.Webhooks.Create(ctx.Request().Context(), in)
	var fe outhook.FieldErrors
	if errors.As(err, &fe) {
		return c.renderWebhooks(ctx, http.StatusUnprocessableEntity, form, fe, nil)
	}
	if err != nil {
		return err
	}
	c.log.Info("admin: webhook endpoint created", "endpoint", e.ID, "personal_data", e.PersonalData)
	return c.renderWebhooks(ctx, http.StatusCreated, webhookForm{}, nil, &e)
}

// webhookAction is POST /admin/webhooks/:id/:action: test, enable,
// disable or delete.
func (c *Console) webhookAction(ctx echo.Context) error {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such webhook endpoint.")
	}
	rctx := ctx.Request().Context()
	flash := ""
	switch ctx.Param("action") {
	case "test":
		err, flash = c.d.Webhooks.SendTest(rctx, id), "whtest"
	case "enable", "disable":
		on := ctx.Param("action") == "enable"
		_, err = c.d.Webhooks.Update(rctx, id, outhook.Input{Enabled: &on})
		flash = "wh" + ctx.Param("action") + "d"
	case "delete":
		err, flash = c.d.Webhooks.Delete(rctx, id), "whdeleted"
	default:
		return echo.NewHTTPError(http.StatusNotFound, "There is no such action.")
	}
	if errors.Is(err, outhook.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such webhook endpoint.")
	}
	if err != nil {
		return err
	}
	return c.redirect(ctx, "/admin/webhooks", flash)
}
