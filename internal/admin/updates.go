package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/update"
)

// The Updates page (/admin/updates) and its API
// (/admin/api/campaigns/{slug}/updates): the organizer's news to the
// supporters who asked for it (issue 26, internal/update).

// UpdateDesk is the organizer's updates to supporters (internal/update).
type UpdateDesk interface {
	Send(ctx context.Context, slug string, in update.Input, by string) (update.Sent, error)
	List(ctx context.Context, slug string) ([]store.Update, error)
	Audience(ctx context.Context, slug string) (int, error)
	Email(c *campaign.Campaign, in update.Input, r store.UpdateRecipient) (store.NewMail, error)
}

// updatesData is what templates/admin/updates.html shows.
type updatesData struct {
	Off       bool // no update service: the page says so
	Subject   string
	Body      string
	Errors    update.FieldErrors
	Audience  int
	Preview   *store.NewMail
	From      string // the preview's From line
	TestEmail string
	Test      *TestResult
	TestError string
	Rows      []store.Update
}

func (c *Console) updatesPage(ctx echo.Context) error {
	return c.renderUpdates(ctx, http.StatusOK, updatesData{TestEmail: organizerAddress(c.current(ctx))})
}

// organizerAddress is the campaign's organizer contact when it is an
// address ("" otherwise): where a test goes by default.
func organizerAddress(camp *campaign.Campaign) string {
	if a, err := mail.ParseAddress(camp.Organizer.Contact); err == nil && a.Address == camp.Organizer.Contact {
		return a.Address
	}
	return ""
}

func (c *Console) renderUpdates(ctx echo.Context, status int, d updatesData) error {
	if c.d.Updates == nil {
		d.Off = true
		return c.render(ctx, status, "updates", c.newView(ctx, "Updates", "updates", d))
	}
	slug := c.current(ctx).Slug
	rc := ctx.Request().Context()
	var err error
	if d.Audience, err = c.d.Updates.Audience(rc, slug); err != nil {
		return err
	}
	if d.Rows, err = c.d.Updates.List(rc, slug); err != nil {
		return err
	}
	return c.render(ctx, status, "updates", c.newView(ctx, "Updates", "updates", d))
}

// updatesPost is POST /admin/updates?campaign=<slug> with action preview,
// test (to test_email) or send.
func (c *Console) updatesPost(ctx echo.Context) error {
	if c.d.Updates == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Updates are off.")
	}
	camp := c.current(ctx)
	in, err := update.Check(update.Input{Subject: ctx.FormValue("subject"), Body: ctx.FormValue("body")})
	d := updatesData{Subject: in.Subject, Body: in.Body, TestEmail: strings.TrimSpace(ctx.FormValue("test_email"))}
	if errors.As(err, &d.Errors) {
		return c.renderUpdates(ctx, http.StatusUnprocessableEntity, d)
	}
	rc := ctx.Request().Context()
	switch ctx.FormValue("action") {
	case "send":
		sent, err := c.d.Updates.Send(rc, camp.Slug, in, update.ByConsole)
		if err != nil {
			return err
		}
		if !sent.Created {
			return c.redirect(ctx, "/admin/updates", "urepeat")
		}
		return c.redirect(ctx, "/admin/updates", "usent")
	case "test":
		res, err := c.testUpdate(rc, camp, in, d.TestEmail)
		if err != nil {
			d.TestError = err.Error()
			return c.renderUpdates(ctx, http.StatusUnprocessableEntity, d)
		}
		d.Test = &res
		c.log.Info("admin: update test send", "mailer", res.Mailer, "ok", res.Err == "")
		return c.renderUpdates(ctx, http.StatusOK, d)
	default: // preview
		m, err := c.d.Updates.Email(camp, in, update.Sample)
		if err != nil {
			return err
		}
		d.Preview, d.From = &m, c.d.FromName+" <"+c.d.FromEmail+">"
		if m.FromName != "" {
			d.From = m.FromName + " via " + d.From
		}
		return c.renderUpdates(ctx, http.StatusOK, d)
	}
}

// testUpdate sends the update, as a sample supporter receives it, to the
// organizer's own address through the configured mailer, at once. Its
// unsubscribe link unsubscribes nobody.
func (c *Console) testUpdate(ctx context.Context, camp *campaign.Campaign, in update.Input, to string) (TestResult, error) {
	addr, err := mail.ParseAddress(to)
	if err != nil || addr.Address != to {
		return TestResult{}, errors.New("give a plain email address to send the test to")
	}
	r := update.Sample
	r.Email = addr.Address
	m, err := c.d.Updates.Email(camp, in, r)
	if err != nil {
		return TestResult{}, err
	}
	msg := delivery.Message{PublicID: "test-" + rand.Text(), Campaign: camp.Slug, TargetID: "update-test", TargetName: m.ToName,
		TargetEmail: m.ToEmail, SupporterName: m.FromName, SupporterEmail: m.ReplyTo, Subject: "[test] " + m.Subject, Body: m.Body,
		Headers: m.Headers}
	mailer := c.d.Sender.Mailer()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res := TestResult{To: addr.Address, Mailer: mailer.Name()}
	id, err := mailer.Send(ctx, msg)
	if err != nil {
		res.Err = err.Error()
	}
	res.ProviderID = id
	return res, nil
}

// apiUpdate is one update in /admin/api/campaigns/{slug}/updates.
type apiUpdate struct {
	ID         int64  `json:"id"`
	Campaign   string `json:"campaign"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	SentBy     string `json:"sent_by"`
	Recipients int    `json:"recipients"` // how many it was to reach when sent
	Queued     int    `json:"queued"`     // mails queued so far
	Sent       int    `json:"sent"`       // mails the provider took
	Cancelled  int    `json:"cancelled"`  // cancelled before they went (unsubscribed, erased)
	Failed     int    `json:"failed"`
	CreatedAt  string `json:"created_at"`
}

func toAPIUpdate(u store.Update) apiUpdate {
	return apiUpdate{ID: u.ID, Campaign: u.Campaign, Subject: u.Subject, Body: u.Body, SentBy: u.SentBy, Recipients: u.Recipients,
		Queued: u.Queued, Sent: u.Sent, Cancelled: u.Cancelled, Failed: u.Failed, CreatedAt: rfc3339(u.CreatedAt)}
}

// updateCampaign is the campaign of /admin/api/campaigns/{slug}/updates;
// ok false when the answer (404) is written.
func (c *Console) updateCampaign(ctx echo.Context) (*campaign.Campaign, bool, error) {
	if c.d.Updates == nil {
		return nil, false, ctx.JSON(http.StatusNotFound, errorAnswer{Error: "updates are off"})
	}
	camp, ok := c.d.Campaigns.Get(ctx.Param("slug"))
	if !ok {
		return nil, false, ctx.JSON(http.StatusNotFound, errorAnswer{Error: "there is no campaign with this slug"})
	}
	return camp, true, nil
}

// apiSendUpdate is POST /admin/api/campaigns/{slug}/updates with
// {"subject", "body"}: 202 with the update (its id, and recipients: how
// many it will reach); 200 with the earlier update when the same text was
// sent to the campaign before (nobody gets it twice); 422 naming the
// fields at fault; 404 for an unknown campaign.
func (c *Console) apiSendUpdate(ctx echo.Context) error {
	camp, ok, err := c.updateCampaign(ctx)
	if !ok {
		return err
	}
	var in update.Input
	dec := json.NewDecoder(io.LimitReader(ctx.Request().Body, 256<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return ctx.JSON(http.StatusBadRequest, errorAnswer{Error: `the body must be one JSON object {"subject": "...", "body": "..."}: ` + err.Error()})
	}
	sent, err := c.d.Updates.Send(ctx.Request().Context(), camp.Slug, in, update.ByAPI)
	var fe update.FieldErrors
	switch {
	case errors.As(err, &fe):
		return ctx.JSON(http.StatusUnprocessableEntity, errorsAnswer{Errors: fe})
	case errors.Is(err, update.ErrNoCampaign):
		return ctx.JSON(http.StatusNotFound, errorAnswer{Error: "there is no campaign with this slug"})
	case err != nil:
		return err
	}
	status := http.StatusAccepted
	if !sent.Created {
		status = http.StatusOK
	}
	return ctx.JSON(status, toAPIUpdate(sent.Update))
}

// apiUpdates is GET /admin/api/campaigns/{slug}/updates: the campaign's
// updates, newest first.
func (c *Console) apiUpdates(ctx echo.Context) error {
	camp, ok, err := c.updateCampaign(ctx)
	if !ok {
		return err
	}
	rows, err := c.d.Updates.List(ctx.Request().Context(), camp.Slug)
	if err != nil {
		return err
	}
	out := make([]apiUpdate, len(rows))
	for i, u := range rows {
		out[i] = toAPIUpdate(u)
	}
	return ctx.JSON(http.StatusOK, updatesAnswer{Updates: out})
}

// updatesAnswer is GET /admin/api/campaigns/{slug}/updates.
type updatesAnswer struct {
	Updates []apiUpdate `json:"updates"`
}
