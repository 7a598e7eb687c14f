package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/target"
)

// letterSource says where the default letter in force comes from: the
// campaign file, or the console (which overrides the file until the
// organizer goes back to it).
type letterSource struct {
	FromConsole bool
	File        string // the campaign file's name
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

func (c *Console) envelope(t target.Target) letterEnvelope {
	name := sampleSupporter.FullName()
	e := letterEnvelope{Target: t,
		From:    name + " via " + c.d.FromName + " <" + c.d.FromEmail + ">",
		ReplyTo: name + " <" + sampleEmail + ">"}
	if t.ID != "" {
		e.To = t.Name + " <" + t.Email + ">"
	}
	return e
}

// revertLetter forgets the letter saved in the console: the campaign
// file's is in force again.
func (c *Console) revertLetter(ctx echo.Context) error {
	if err := c.d.Store.ClearLetterDefaults(ctx.Request().Context(), c.d.Campaign.Slug); err != nil {
		return err
	}
	c.log.Info("admin: default letter: back to the campaign file's")
	return c.redirect(ctx, "/admin/letter", "reverted")
}
