package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/target"
)

// The console works on one campaign at a time: the one named by the
// "campaign" query or form value, else the one last chosen (a cookie), else
// the first. The campaign switcher in the layout sets it.
const campaignCookie = "outcry_console_campaign"

// allCampaigns is the "campaign" value of the send log's all-campaigns view.
const allCampaigns = "all"

// current is the campaign the console page works on.
func (c *Console) current(ctx echo.Context) *campaign.Campaign {
	if slug := ctx.QueryParam("campaign"); slug != "" {
		if camp, ok := c.d.Campaigns.Get(slug); ok {
			ctx.SetCookie(&http.Cookie{Name: campaignCookie, Value: slug, Path: "/admin", HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: c.d.SecureCookies})
			return camp
		}
	}
	if ck, err := ctx.Cookie(campaignCookie); err == nil {
		if camp, ok := c.d.Campaigns.Get(ck.Value); ok {
			return camp
		}
	}
	if all := c.d.Campaigns.All(); len(all) > 0 {
		return all[0]
	}
	return &campaign.Campaign{Title: "no campaign"}
}

// --- pages ------------------------------------------------------------------

type campaignsData struct {
	Rows     []campaignFigures
	Form     campaignForm
	Errors   formErrors
	Targets  []target.Target
	Defaults formDefaults
}

type campaignFigures struct {
	C     *campaign.Campaign
	State campaign.Status
	Count int
}

func (c *Console) campaignsPage(ctx echo.Context) error {
	return c.renderCampaigns(ctx, http.StatusOK, newCampaignForm(), nil)
}

func (c *Console) renderCampaigns(ctx echo.Context, status int, form campaignForm, fe campaign.FieldErrors) error {
	d := campaignsData{Form: form, Errors: formErrors(fe), Targets: c.d.Targets.Current().All, Defaults: c.formDefaults()}
	now := time.Now()
	for _, camp := range c.d.Campaigns.All() {
		n, err := c.d.Store.SupporterCount(ctx.Request().Context(), camp.Slug)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, campaignFigures{C: camp, State: camp.State(now), Count: n})
	}
	v := c.newView(ctx, "Campaigns", "campaigns", d)
	if len(fe) > 0 {
		v.Error = refusedSummary(fe)
	}
	return c.render(ctx, status, "campaigns", v)
}

func (c *Console) createCampaign(ctx echo.Context) error {
	form, in, fe := readCampaignForm(ctx)
	if len(fe) > 0 {
		return c.renderCampaigns(ctx, http.StatusUnprocessableEntity, form, withChecks(fe, c.d.Campaigns.Check("", in)))
	}
	camp, err := c.d.Campaigns.Create(ctx.Request().Context(), in)
	if errors.As(err, &fe) {
		return c.renderCampaigns(ctx, http.StatusUnprocessableEntity, form, fe)
	}
	if errors.Is(err, campaign.ErrExists) {
		return c.renderCampaigns(ctx, http.StatusConflict, form, campaign.FieldErrors{"slug": "a campaign with this slug exists"})
	}
	if err != nil {
		return err
	}
	c.log.Info("admin: campaign created", "campaign", camp.Slug)
	return c.redirect(ctx, "/admin/campaigns/"+camp.Slug, "created")
}

type campaignData struct {
	C        *campaign.Campaign
	State    campaign.Status
	Form     campaignForm
	Errors   formErrors
	Targets  []target.Target
	Defaults formDefaults
	InFile   bool // the campaign file holds this campaign (it can go back to it)
}

func (c *Console) campaignPage(ctx echo.Context) error {
	camp, ok := c.d.Campaigns.Get(ctx.Param("slug"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
	}
	return c.renderCampaign(ctx, http.StatusOK, camp, formOf(camp), nil)
}

func (c *Console) renderCampaign(ctx echo.Context, status int, camp *campaign.Campaign, form campaignForm, fe campaign.FieldErrors) error {
	d := campaignData{C: camp, State: camp.State(time.Now()), Form: form, Errors: formErrors(fe), Targets: c.d.Targets.Current().All,
		Defaults: c.formDefaults(), InFile: c.d.CampaignFile != nil && c.d.CampaignFile.Slug == camp.Slug}
	v := c.newView(ctx, camp.Title, "campaigns", d)
	if len(fe) > 0 {
		v.Error = refusedSummary(fe)
	}
	return c.render(ctx, status, "campaign", v)
}

// campaignPost is POST /admin/campaigns/{slug}: save the content, or set
// the status (open, paused, closed), or go back to the campaign file.
func (c *Console) campaignPost(ctx echo.Context) error {
	camp, ok := c.d.Campaigns.Get(ctx.Param("slug"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
	}
	rc := ctx.Request().Context()
	back := "/admin/campaigns/" + camp.Slug
	switch action := ctx.FormValue("action"); action {
	case "open", "paused", "closed":
		st := campaign.Status(action)
		if _, err := c.d.Campaigns.Update(rc, camp.Slug, campaign.Input{Status: &st}); err != nil {
			return err
		}
		c.log.Info("admin: campaign status", "campaign", camp.Slug, "status", st)
		return c.redirect(ctx, back, "c"+action)
	case "revert":
		if c.d.CampaignFile == nil || c.d.CampaignFile.Slug != camp.Slug {
			return echo.NewHTTPError(http.StatusBadRequest, "This campaign is not in the campaign file.")
		}
		if err := c.d.Campaigns.RevertToFile(rc, c.d.CampaignFile); err != nil {
			return err
		}
		return c.redirect(ctx, back, "reverted")
	}
	form, in, fe := readCampaignForm(ctx)
	in.Slug = nil
	form.Slug = camp.Slug
	if len(fe) > 0 {
		return c.renderCampaign(ctx, http.StatusUnprocessableEntity, camp, form, withChecks(fe, c.d.Campaigns.Check(camp.Slug, in)))
	}
	_, err := c.d.Campaigns.Update(rc, camp.Slug, in)
	if errors.As(err, &fe) {
		return c.renderCampaign(ctx, http.StatusUnprocessableEntity, camp, form, fe)
	}
	if err != nil {
		return err
	}
	return c.redirect(ctx, back, "csaved")
}

// campaignImagePost is POST /admin/campaigns/{slug}/image: the image form
// (a file and its description). The file is checked by decoding it, never
// by its name or the type the browser guessed from the name.
func (c *Console) campaignImagePost(ctx echo.Context) error {
	camp, ok := c.d.Campaigns.Get(ctx.Param("slug"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
	}
	refuse := func(why string) error {
		return c.renderCampaign(ctx, http.StatusUnprocessableEntity, camp, formOf(camp), campaign.FieldErrors{"image": why})
	}
	fh, err := ctx.FormFile("image")
	if err != nil {
		return refuse("choose a JPEG, PNG or WebP file of at most 5 MB")
	}
	if fh.Size > campaign.MaxImageBytes {
		return refuse(fmt.Sprintf("the file is %.1f MB; the limit is 5 MB", float64(fh.Size)/(1<<20)))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, campaign.MaxImageBytes+1))
	if err != nil {
		return err
	}
	_, err = c.d.Campaigns.SetImage(ctx.Request().Context(), camp.Slug, data, "", ctx.FormValue("image_alt"))
	var ie *campaign.ImageError
	if errors.As(err, &ie) {
		return refuse("this file cannot be used: " + ie.Reason)
	}
	if err != nil {
		return err
	}
	c.log.Info("admin: campaign image", "campaign", camp.Slug, "bytes", len(data))
	return c.redirect(ctx, "/admin/campaigns/"+camp.Slug, "cimage")
}

// --- API --------------------------------------------------------------------

// apiCampaign is one campaign in the admin API.
type apiCampaign struct {
	Slug         string             `json:"slug"`
	Title        string             `json:"title"`
	Summary      string             `json:"summary"`
	Story        string             `json:"story"`
	CallToAction string             `json:"call_to_action"`
	Subject      string             `json:"subject"`
	Body         string             `json:"body"`
	Targets      []string           `json:"targets"`
	Goal         int                `json:"goal"`
	Status       campaign.Status    `json:"status"`
	Source       campaign.Source    `json:"source"`
	Count        int                `json:"count"`
	URL          string             `json:"url"`
	Image        campaign.Image     `json:"image"`
	Organizer    campaign.Organizer `json:"organizer"`
	// Targeting and the letter versions (issue 21).
	Targeting campaign.Targeting       `json:"targeting"`
	Versions  []campaign.LetterVersion `json:"versions"`
}

func (c *Console) apiCampaignOf(ctx echo.Context, camp *campaign.Campaign) (apiCampaign, error) {
	n, err := c.d.Store.SupporterCount(ctx.Request().Context(), camp.Slug)
	if err != nil {
		return apiCampaign{}, err
	}
	targets := camp.Targets
	if targets == nil {
		targets = []string{}
	}
	versions := camp.Letter.Versions
	if versions == nil {
		versions = []campaign.LetterVersion{}
	}
	return apiCampaign{Targeting: camp.Targeting, Versions: versions, Slug: camp.Slug, Title: camp.Title, Summary: camp.Summary, Story: camp.Story, CallToAction: camp.CallToAction,
		Subject: camp.Letter.Subject, Body: camp.Letter.Body, Image: camp.Image, Organizer: camp.Organizer, Targets: targets, Goal: camp.Goal, Status: camp.State(time.Now()),
		Source: camp.Source, Count: n, URL: c.d.BaseURL + camp.Path()}, nil
}

// apiCampaigns is GET /admin/api/campaigns: every campaign, closed ones too.
func (c *Console) apiCampaigns(ctx echo.Context) error {
	out := []apiCampaign{}
	for _, camp := range c.d.Campaigns.All() {
		a, err := c.apiCampaignOf(ctx, camp)
		if err != nil {
			return err
		}
		out = append(out, a)
	}
	return ctx.JSON(http.StatusOK, campaignsAnswer{Campaigns: out})
}

// readInput decodes a campaign from a JSON body; a malformed body is 400.
func readInput(ctx echo.Context) (campaign.Input, error) {
	var in campaign.Input
	dec := json.NewDecoder(io.LimitReader(ctx.Request().Body, 256<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, echo.NewHTTPError(http.StatusBadRequest, "the body must be one JSON campaign object: "+err.Error())
	}
	return in, nil
}

// apiCreateCampaign is POST /admin/api/campaigns: 201 with the campaign,
// 409 when the slug exists, 422 with the fields at fault.
func (c *Console) apiCreateCampaign(ctx echo.Context) error {
	in, err := readInput(ctx)
	if err != nil {
		return err
	}
	camp, err := c.d.Campaigns.Create(ctx.Request().Context(), in)
	return c.apiCampaignAnswer(ctx, http.StatusCreated, camp, err)
}

// apiPatchCampaign is PATCH /admin/api/campaigns/{slug}: 200 with the
// campaign, 404 when there is none, 422 with the fields at fault.
func (c *Console) apiPatchCampaign(ctx echo.Context) error {
	in, err := readInput(ctx)
	if err != nil {
		return err
	}
	camp, err := c.d.Campaigns.Update(ctx.Request().Context(), ctx.Param("slug"), in)
	return c.apiCampaignAnswer(ctx, http.StatusOK, camp, err)
}

// apiPutImage is PUT /admin/api/campaigns/{slug}/image, the image as the
// body (JPEG, PNG or WebP, at most 5 MB; its Content-Type must be what it
// decodes to): 200 with the campaign, whose image.src serves it; 422 for
// anything else; 413 over 5 MB. An optional ?alt= describes it.
func (c *Console) apiPutImage(ctx echo.Context) error {
	data, err := io.ReadAll(io.LimitReader(ctx.Request().Body, campaign.MaxImageBytes+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "the image could not be read: "+err.Error())
	}
	if len(data) > campaign.MaxImageBytes {
		return ctx.JSON(http.StatusRequestEntityTooLarge, errorsAnswer{Errors: campaign.FieldErrors{"image": "is over 5 MB"}})
	}
	camp, err := c.d.Campaigns.SetImage(ctx.Request().Context(), ctx.Param("slug"), data,
		ctx.Request().Header.Get("Content-Type"), ctx.QueryParam("alt"))
	return c.apiCampaignAnswer(ctx, http.StatusOK, camp, err)
}

func (c *Console) apiCampaignAnswer(ctx echo.Context, status int, camp *campaign.Campaign, err error) error {
	var fe campaign.FieldErrors
	switch {
	case errors.As(err, &fe):
		return ctx.JSON(http.StatusUnprocessableEntity, errorsAnswer{Errors: fe})
	case errors.As(err, new(*campaign.ImageError)):
		var ie *campaign.ImageError
		errors.As(err, &ie)
		return ctx.JSON(http.StatusUnprocessableEntity, errorsAnswer{Errors: campaign.FieldErrors{"image": ie.Reason}})
	case errors.Is(err, campaign.ErrExists):
		return ctx.JSON(http.StatusConflict, map[string]string{"error": "a campaign with this slug exists"})
	case errors.Is(err, campaign.ErrNotFound):
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "there is no campaign with this slug"})
	case err != nil:
		return err
	}
	a, err := c.apiCampaignOf(ctx, camp)
	if err != nil {
		return err
	}
	return ctx.JSON(status, a)
}
