package web

import (
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/similar"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/targeting"
)

// maxJSONBody bounds a letter sent to the API: the letter's own limits plus room for JSON.
const maxJSONBody = 128 << 10

func (s *Server) campaignPage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	return s.showCampaign(c, camp)
}

func (s *Server) showCampaign(c echo.Context, camp *campaign.Campaign) error {
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	s.campaignResponses(c.Request().Context(), p)
	status := s.prepareForm(c, p, camp)
	s.arm(c, p)
	return s.render(c, status, "campaign", p)
}

// prepareForm fills the campaign's form as it is first shown, on the
// campaign page and in the embed: the letter, the area step (issue 21),
// and a prefilled link's values. Its status is 422 when the area step has
// a problem to show.
func (s *Server) prepareForm(c echo.Context, p *page, camp *campaign.Campaign) int {
	p.Form = prefill(c.QueryParams(), letter.Submission{Subject: s.subjectFor(c, camp), Body: camp.Letter.Body})
	status := http.StatusOK
	if camp.Targeting.ByArea() {
		// The postcode step without JavaScript: GET ?postcode=…[&area=…].
		p.Form.Postcode, p.Form.Area = c.QueryParam("postcode"), c.QueryParam("area")
	}
	if s.fillPick(p, camp, p.Form.Postcode, p.Form.Area) {
		status = http.StatusUnprocessableEntity
	}
	if p.Pick.Resolved() {
		l := targeting.Letter(camp, p.Pick.Res.Matched)
		p.Form.Subject, p.Form.Body = l.Subject, l.Body
		p.Reference = l.Body
		if l.Subject == camp.Letter.Subject {
			p.Form.Subject = s.subjectFor(c, camp) // the campaign's letter: one of its subject lines (issue 24)
		}
		if camp.Targeting.Choose && len(p.Pick.Res.Matched) <= p.Pick.Hi {
			p.Form.Targets = p.Pick.Res.IDs() // all ticked when all may be
		}
	}
	return status
}

// prefill fills the form from a prefilled link (?first_name=&last_name=
// &email=&postcode=&source=): it only fills, never sends. A value longer
// than its field allows is left out, and so is a source that is not a
// source code (docs/source-codes.md).
func prefill(q url.Values, f letter.Submission) letter.Submission {
	for _, p := range []struct {
		key string
		max int
		dst *string
	}{
		{"first_name", letter.MaxName, &f.FirstName}, {"last_name", letter.MaxName, &f.LastName},
		{"email", letter.MaxEmail, &f.Email}, {"postcode", letter.MaxPostcode, &f.Postcode},
	} {
		if v := strings.TrimSpace(q.Get(p.key)); utf8.RuneCountInString(v) <= p.max && utf8.ValidString(v) {
			*p.dst = v
		}
	}
	if v := strings.TrimSpace(q.Get("source")); letter.ValidSource(v) {
		f.Source = v
	}
	return f
}

// homePage is GET /: the campaign itself when one takes letters, else the
// list of those that do.
func (s *Server) homePage(c echo.Context) error {
	listed := s.d.Campaigns.Listed()
	if len(listed) == 1 {
		return s.showCampaign(c, listed[0])
	}
	p := &page{Campaign: s.site(), BaseURL: s.d.BaseURL, DryRun: s.d.DryRun}
	for _, camp := range listed {
		n, err := s.d.Store.SupporterCount(c.Request().Context(), camp.Slug)
		if err != nil {
			return err
		}
		p.Campaigns = append(p.Campaigns, campaignItem{Campaign: camp, Count: n})
	}
	return s.render(c, http.StatusOK, "home", p)
}

// subjectFor draws the subject line a supporter's form starts with: one of
// the campaign's variants, at random but the same for the whole session
// (the form's CSRF cookie names the session).
func (s *Server) subjectFor(c echo.Context, camp *campaign.Campaign) string {
	v := camp.Letter.Variants()
	if len(v) == 1 {
		return v[0]
	}
	h := fnv.New32a()
	h.Write([]byte(camp.Slug + "\x00" + s.csrfToken(c)))
	return v[h.Sum32()%uint32(len(v))]
}

// closedAnswer is the answer to a letter for a campaign that takes none:
// 410 when it has ended, 409 when it has not started yet.
func closedAnswer(camp *campaign.Campaign, now time.Time) (int, string) {
	if camp.State(now) == campaign.NotStarted {
		return http.StatusConflict, "This campaign is not open yet: your letter was not sent. Please come back when it opens."
	}
	return http.StatusGone, "This campaign has ended: your letter was not sent."
}

// submitForm takes the HTML form: on success it redirects to the thank-you
// page (POST-redirect-GET); invalid input re-renders the form with a message
// at each bad field and everything typed kept. A bot (the hidden field
// filled in, or a stamp we did not sign) gets the same redirect and nothing
// is stored. A form sent sooner than OUTCRY_FORM_MIN_TIME may be a person
// (autofill, a quick typist): it is shown again, everything kept, to check
// and send, so that nobody is thanked for a letter that was dropped.
func (s *Server) submitForm(c echo.Context) error {
	return s.takeForm(c, "/thanks")
}

// takeForm takes a letter from the campaign's form or the embed's,
// redirecting to the campaign's thanksPath on success.
func (s *Server) takeForm(c echo.Context, thanksPath string) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Please reload the page and try again.")
	}
	sub := letter.FromForm(form)
	if !letter.ValidSource(strings.TrimSpace(sub.Source)) {
		// A source is the page's hidden field, never typed: one that was
		// tampered with is dropped, and never costs the letter.
		sub.Source = ""
	}
	if !camp.TakesLetters(s.now()) {
		status, msg := closedAnswer(camp, s.now())
		return s.reRender(c, camp, status, sub, nil, msg)
	}
	thanks := camp.Path() + thanksPath
	if form.Get("website") != "" {
		s.log.Info("form: honeypot filled in; nothing stored")
		return c.Redirect(http.StatusSeeOther, thanks)
	}
	switch s.checkStamp(form.Get("ts")) {
	case stampForged:
		s.log.Info("form: forged stamp; nothing stored")
		return c.Redirect(http.StatusSeeOther, thanks)
	case stampTooFast:
		s.log.Info("form: sent sooner than OUTCRY_FORM_MIN_TIME; shown again to check and send")
		return s.reRender(c, camp, http.StatusUnprocessableEntity, sub, nil, s.d.Messages.T("form.check_and_send"))
	case stampMissing, stampExpired:
		return s.reRender(c, camp, http.StatusUnprocessableEntity, sub, nil,
			"This page was open for a long time. Please check your letter below and send it again.")
	}
	typed := sub // what the supporter typed, before normalization
	res, err := s.d.Letters.Sign(c.Request().Context(), camp, &sub)
	var fe letter.FieldErrors
	if errors.As(err, &fe) {
		return s.reRender(c, camp, http.StatusUnprocessableEntity, typed, fe, "")
	}
	if store.Unavailable(err) {
		s.log.Error("form: letter not stored: the database is out of reach", "err", err)
		c.Response().Header().Set("Retry-After", "60")
		return s.reRender(c, camp, http.StatusServiceUnavailable, typed, nil, s.d.Messages.T("form.not_stored"))
	}
	if err != nil {
		return err
	}
	// What the meter says of the letter, for a page seen without
	// JavaScript (the same for a repeat: nobody learns who has written).
	if res.SupporterID != 0 {
		// The writer's private receipt, carried to the thank-you page.
		thanks = addQuery(thanks, "r", s.d.Receipts.Token(res.SupporterID))
		s.markWriter(c, camp.Path(), res.SupporterID)
	}
	thanks = addQuery(thanks, "m", string(res.Level))
	return c.Redirect(http.StatusSeeOther, thanks)
}

// reRender shows the form again with what the supporter typed.
func (s *Server) reRender(c echo.Context, camp *campaign.Campaign, status int, typed letter.Submission, fe letter.FieldErrors, notice string) error {
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	p.Form, p.Errors, p.Notice = typed, fe, notice
	s.fillPick(p, camp, typed.Postcode, typed.Area)
	s.arm(c, p)
	if isEmbedRoute(c.Path()) {
		s.embedView(c, p)
		return s.render(c, status, "embed", p)
	}
	return s.render(c, status, "campaign", p)
}

// arm fills the form's CSRF token and signed render time.
func (s *Server) arm(c echo.Context, p *page) {
	if !isEmbedRoute(c.Path()) { // the embed's posts are guarded without a cookie (embed.go)
		p.CSRF = s.csrfToken(c)
	}
	p.FormStamp = s.stamp(s.now())
}

// csrfFailed answers a form whose CSRF token is missing or wrong: 403, and
// the form again with everything typed, so nothing is lost.
func (s *Server) csrfFailed(err error, c echo.Context) error {
	s.log.Info("form: CSRF check failed", "err", err)
	camp, sub, ok := s.typedForm(c)
	if !ok {
		return echo.NewHTTPError(http.StatusForbidden, "This form has expired. Please reload the page.")
	}
	return s.reRender(c, camp, http.StatusForbidden, sub, nil,
		"This form has expired, please reload: we kept your letter below, check it and send it again.")
}

// confirmAction is the confirmation link, /c/{slug}/confirm?t=… from the
// confirmation email: its GET shows a button, and only the button's POST
// confirms (linkAction), so a mail gateway that opens the link confirms nothing.
func (s *Server) confirmAction() linkAction {
	return linkAction{Name: "confirm", TokenField: "t",
		Show: func(c echo.Context, tok string, b actionButton) error {
			camp, err := s.confirmable(c)
			if err != nil {
				return err
			}
			if err := confirmError(s.d.Confirm.Check(tok)); err != nil {
				return err
			}
			p, err := s.newPage(c.Request().Context(), camp)
			if err != nil {
				return err
			}
			p.Button = &b
			return s.render(c, http.StatusOK, "confirm", p)
		},
		Act: func(c echo.Context, tok string) error {
			camp, err := s.confirmable(c)
			if err != nil {
				return err
			}
			outcome, err := s.d.Confirm.Confirm(c.Request().Context(), camp.Slug, tok)
			if err := confirmError(err); err != nil {
				return err
			}
			p, err := s.newPage(c.Request().Context(), camp)
			if err != nil {
				return err
			}
			p.Confirmed = outcome == confirm.Confirmed
			return s.render(c, http.StatusOK, "confirm", p)
		},
	}
}

// confirmable is the campaign of a confirmation link, when confirmation is on.
func (s *Server) confirmable(c echo.Context) (*campaign.Campaign, error) {
	camp, err := s.campaignFor(c)
	if err != nil {
		return nil, err
	}
	if s.d.Confirm == nil {
		return nil, echo.NewHTTPError(http.StatusNotFound, "There is nothing to confirm here.")
	}
	return camp, nil
}

// confirmError is the page for a link that is not valid or has expired.
func confirmError(err error) error {
	switch {
	case errors.Is(err, confirm.ErrInvalid):
		return echo.NewHTTPError(http.StatusBadRequest,
			"This confirmation link is not valid. Please open the link from the email exactly as it was sent; nothing has been changed.")
	case errors.Is(err, confirm.ErrExpired):
		return echo.NewHTTPError(http.StatusGone,
			"This confirmation link has expired and the letter was not sent. You are welcome to write again.")
	}
	return err
}

// thanksPage is GET /c/{slug}/thanks[?r=<receipt token>]: thanks, a
// ready-made message to share and, for the writer of a new letter, the link
// to their private receipt.
func (s *Server) thanksPage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	p.Wrote = true
	switch m := similar.Level(c.QueryParam("m")); m {
	case similar.Mostly, similar.Partly, similar.Own:
		p.Meter = string(m)
	}
	if tok := c.QueryParam("r"); tok != "" && s.d.Receipts.Valid(tok) {
		path := camp.Path() + "/receipt/" + tok
		p.ReceiptURL = s.d.BaseURL + path
		if s.d.Receipts.CanEmail() {
			p.EmailAction = path + "/email"
		}
		privatePage(c)
	}
	return s.render(c, http.StatusOK, "thanks", p)
}

func (s *Server) privacyPage(c echo.Context) error {
	camp := s.pageCampaign(c)
	p := &page{Campaign: camp, BaseURL: s.d.BaseURL, RetentionDays: s.d.RetentionDays, ConfirmOn: s.d.Confirm != nil, DryRun: s.d.DryRun}
	return s.render(c, http.StatusOK, "privacy", p)
}

// apiSign is POST /api/v1/campaigns/{slug}/letters. A new and a repeated
// address get the same 202, so nobody learns who has written.
func (s *Server) apiSign(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	var sub letter.Submission
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxJSONBody+1))
	if err := dec.Decode(&sub); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The request body is not a valid JSON letter: "+jsonProblem(err))
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "The request body must hold one JSON object.")
	}
	if !camp.TakesLetters(s.now()) {
		status, msg := closedAnswer(camp, s.now())
		return c.JSON(status, map[string]string{"error": msg, "status": string(camp.State(s.now()))})
	}
	res, err := s.d.Letters.Sign(c.Request().Context(), camp, &sub)
	var fe letter.FieldErrors
	if errors.As(err, &fe) {
		return c.JSON(http.StatusUnprocessableEntity, fieldErrorsAnswer{Errors: fe})
	}
	if err != nil {
		return err
	}
	targets := res.Targets
	if targets == nil {
		targets = []string{}
	}
	return c.JSON(http.StatusAccepted, map[string]any{"status": "accepted", "targets": targets})
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "field " + te.Field + " has the wrong type"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it is empty or cut short"
	}
	return "malformed JSON"
}

// The public API's answers. Their fields are in the order of their JSON
// names, the order encoding/json gave the maps they replace, so that the
// bytes did not change (testdata/answers holds them).
type (
	// fieldErrorsAnswer is 422: a message for each bad field.
	fieldErrorsAnswer struct {
		Errors letter.FieldErrors `json:"errors"`
	}
	// campaignAnswer is GET /api/v1/campaigns/{slug}.
	campaignAnswer struct {
		Body         string          `json:"body"`
		CallToAction string          `json:"call_to_action"`
		Count        int             `json:"count"`
		Goal         int             `json:"goal"`
		Image        campaign.Image  `json:"image"`
		Slug         string          `json:"slug"`
		Status       campaign.Status `json:"status"`
		Story        []string        `json:"story"`
		Subject      string          `json:"subject"`
		Subjects     []string        `json:"subjects"` // the subject lines a form may start with (issue 24); subject is the first
		Summary      string          `json:"summary"`
		// Targeting is how the campaign picks each letter's targets (issue 21).
		Targeting campaign.Targeting `json:"targeting"`
		Title     string             `json:"title"`
		URL       string             `json:"url"`
	}
	// campaignsAnswer is GET /api/v1/campaigns.
	campaignsAnswer struct {
		Campaigns []campaignListed `json:"campaigns"`
	}
	campaignListed struct {
		Count  int             `json:"count"`
		Slug   string          `json:"slug"`
		Status campaign.Status `json:"status"`
		Title  string          `json:"title"`
		URL    string          `json:"url"`
	}
)

// apiCampaign is GET /api/v1/campaigns/{slug}.
func (s *Server) apiCampaign(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	count, err := s.d.Store.SupporterCount(c.Request().Context(), camp.Slug)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, campaignAnswer{
		Slug:         camp.Slug,
		Title:        camp.Title,
		Summary:      camp.Summary,
		CallToAction: camp.CallToAction,
		Story:        camp.Paragraphs(),
		Image:        camp.Image,
		Goal:         camp.Goal,
		Subject:      camp.Letter.Subject,
		Subjects:     camp.Letter.Variants(),
		Body:         camp.Letter.Body,
		Count:        count,
		URL:          s.d.BaseURL + camp.Path(),
		Status:       camp.State(s.now()),
		Targeting:    camp.Targeting,
	})
}

// apiCampaigns is GET /api/v1/campaigns: the campaigns taking letters.
func (s *Server) apiCampaigns(c echo.Context) error {
	out := []campaignListed{}
	for _, camp := range s.d.Campaigns.Listed() {
		count, err := s.d.Store.SupporterCount(c.Request().Context(), camp.Slug)
		if err != nil {
			return err
		}
		out = append(out, campaignListed{Slug: camp.Slug, Title: camp.Title, URL: s.d.BaseURL + camp.Path(),
			Count: count, Status: camp.State(s.now())})
	}
	return c.JSON(http.StatusOK, campaignsAnswer{Campaigns: out})
}
