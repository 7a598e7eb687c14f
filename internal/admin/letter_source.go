package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/target"
)

// letterSource says where the default letter in force comes from: the
// campaign file, or the console (which overrides the file's letter until
// the organizer goes back to it; the rest of the file still applies).
type letterSource struct {
	FromConsole bool
	Whole       bool   // the whole campaign is the console's, not only its letter
	InFile      bool   // the campaign file holds this campaign: it can go back to it
	File        string // the campaign file's name
}

func (c *Console) letterSource(ctx echo.Context) letterSource {
	cur := c.current(ctx)
	return letterSource{FromConsole: cur.FromConsole(campaign.PartLetter), Whole: cur.Source == campaign.FromConsole,
		InFile: c.d.CampaignFile != nil && c.d.CampaignFile.Slug == cur.Slug, File: c.d.CampaignPath}
}

// sampleEmail is the sample supporter's address in previews.
const sampleEmail = "alex.sample@example.org"

// letterEnvelope is what the preview's target sees around the text: the
// same From and Reply-To the SendGrid mailer sets (delivery/sendgrid.go).
type letterEnvelope struct {
	Target  target.Target
	From    string
	ReplyTo string
	To      string
}

func (c *Console) envelope(_ echo.Context, t target.Target) letterEnvelope {
	name := sampleSupporter.FullName()
	e := letterEnvelope{Target: t,
		From:    name + " via " + c.d.FromName + " <" + c.d.FromEmail + ">",
		ReplyTo: name + " <" + sampleEmail + ">"}
	if t.ID != "" {
		e.To = t.Name + " <" + t.Email + ">"
	}
	return e
}

// revertLetter puts the campaign file's letter in force again for the
// current campaign; the other parts keep their source.
func (c *Console) revertLetter(ctx echo.Context) error {
	cur := c.current(ctx)
	if c.d.CampaignFile == nil || c.d.CampaignFile.Slug != cur.Slug {
		return echo.NewHTTPError(http.StatusBadRequest, "This campaign is not in the campaign file.")
	}
	if err := c.d.Campaigns.RevertToFile(ctx.Request().Context(), c.d.CampaignFile, campaign.PartLetter); err != nil {
		return err
	}
	c.log.Info("admin: campaign letter: back to the campaign file's", "campaign", cur.Slug)
	return c.redirect(ctx, "/admin/letter", "lreverted")
}
