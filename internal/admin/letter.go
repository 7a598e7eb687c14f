package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/target"
)

// The letter page (/admin/letter): the campaign's default letter, a preview
// per target and a test send.

type letterData struct {
	Subject, Body string
	Errors        letter.FieldErrors
	Targets       []target.Target
	PreviewFor    string
	Preview       string
	TestEmail     string
	Test          *TestResult
	TestError     string
	Source        letterSource   // where the text in force comes from
	Envelope      letterEnvelope // the preview's target and headers
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
	d.Envelope = c.envelope(ctx, t)
	d.Source = c.letterSource(ctx)
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
	if ctx.FormValue("action") == "revert" {
		return c.revertLetter(ctx)
	}
	subject, body, fe := checkLetter(ctx.FormValue("subject"), ctx.FormValue("body"))
	d := letterData{Subject: subject, Body: body, Errors: fe, PreviewFor: ctx.FormValue("target"),
		TestEmail: strings.TrimSpace(ctx.FormValue("test_email"))}
	rc := ctx.Request().Context()
	if fe != nil {
		return c.renderLetter(ctx, http.StatusUnprocessableEntity, d)
	}
	switch ctx.FormValue("action") {
	case "save":
		if _, err := c.d.Campaigns.Update(rc, c.current(ctx).Slug, campaign.Input{Subject: &subject, Body: &body}); err != nil {
			return err
		}
		c.log.Info("admin: default letter saved (for the campaign file's campaign: the file's letter is no longer applied, its other parts still are)",
			"campaign", c.current(ctx).Slug)
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
