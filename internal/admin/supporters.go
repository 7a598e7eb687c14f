package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/privacy"
)

// The organizer's side of a supporter's data requests (issue 5, privacy):
// export everything held about an address as JSON, and erase it. The
// console asks for the address twice before erasing; the API takes it in a
// JSON body. Addresses are never logged.

// errEmail is a bad address typed by the organizer.
type errEmail string

func (e errEmail) Error() string { return string(e) }

// supporterEmail checks and normalizes an address given to the console.
func supporterEmail(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", errEmail("The address is not valid text (invalid UTF-8).")
	}
	email := letter.NormalizeEmail(raw)
	switch {
	case email == "":
		return "", errEmail("Enter the supporter's email address.")
	case len(email) > letter.MaxEmail:
		return "", errEmail(fmt.Sprintf("An email address has at most %d characters.", letter.MaxEmail))
	case strings.ContainsAny(email, "\r\n"):
		return "", errEmail("An email address is one line.")
	}
	// The form's check without its newer refusals (quoted local parts,
	// issue 27), so that every address a supporter could write with, then
	// or now, can be found, exported and erased here.
	if !letter.ValidStoredEmail(email) {
		return "", errEmail("This is not an email address.")
	}
	return email, nil
}

func (c *Console) privacy() *privacy.Service {
	if c.d.Privacy != nil {
		return c.d.Privacy
	}
	return &privacy.Service{Store: c.d.Store}
}

// supportersData is the Supporters page: the request form, or the step
// that asks for the address again before erasing.
type supportersData struct {
	Email        string
	Problem      string
	ConfirmErase bool
}

func (c *Console) supportersPage(ctx echo.Context) error {
	return c.renderSupporters(ctx, http.StatusOK, supportersData{})
}

func (c *Console) renderSupporters(ctx echo.Context, status int, d supportersData) error {
	return c.render(ctx, status, "supporters", c.newView(ctx, "Supporters", "supporters", d))
}

// supporterExport is the console's export: a JSON download.
func (c *Console) supporterExport(ctx echo.Context) error {
	raw := ctx.FormValue("email")
	email, err := supporterEmail(raw)
	if err != nil {
		return c.renderSupporters(ctx, http.StatusBadRequest, supportersData{Email: boundedEcho(raw), Problem: err.Error()})
	}
	exp, err := c.privacy().Export(ctx.Request().Context(), email)
	if err != nil {
		return err
	}
	c.log.Info("admin: supporter data exported", "records", len(exp.Supporters))
	h := ctx.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="outcry-supporter-export.json"`)
	h.Set("Cache-Control", "no-store")
	return ctx.JSONPretty(http.StatusOK, exp, "  ")
}

// supporterErase erases after the organizer typed the address a second
// time (field confirm_email); the first post only shows that step.
func (c *Console) supporterErase(ctx echo.Context) error {
	raw := ctx.FormValue("email")
	email, err := supporterEmail(raw)
	if err != nil {
		return c.renderSupporters(ctx, http.StatusBadRequest, supportersData{Email: boundedEcho(raw), Problem: err.Error()})
	}
	again, given := ctx.Request().PostForm["confirm_email"]
	if !given {
		return c.renderSupporters(ctx, http.StatusOK, supportersData{Email: email, ConfirmErase: true})
	}
	if len(again) != 1 || letter.NormalizeEmail(again[0]) != email {
		return c.renderSupporters(ctx, http.StatusBadRequest, supportersData{Email: email, ConfirmErase: true,
			Problem: "The two addresses differ: nothing was erased. Type the address again exactly."})
	}
	n, err := c.privacy().Erase(ctx.Request().Context(), email)
	if err != nil {
		return err
	}
	c.log.Info("admin: supporter erased", "records", n)
	if n == 0 {
		return c.redirect(ctx, "/admin/supporters", "noneerased")
	}
	return c.redirect(ctx, "/admin/supporters", "erased")
}

// boundedEcho shortens a rejected value before it is shown back in the form.
func boundedEcho(s string) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) > letter.MaxEmail {
		s = s[:letter.MaxEmail]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// apiSupporterExport is GET /admin/api/supporters/export?email=.
func (c *Console) apiSupporterExport(ctx echo.Context) error {
	email, err := supporterEmail(ctx.QueryParam("email"))
	if err != nil {
		return ctx.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	exp, err := c.privacy().Export(ctx.Request().Context(), email)
	if err != nil {
		return err
	}
	c.log.Info("admin api: supporter data exported", "records", len(exp.Supporters))
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.JSON(http.StatusOK, exp)
}

// apiSupporterErase is POST /admin/api/supporters/erase with {"email": ...};
// it answers {"email": ..., "erased": n} (n = 0: nothing was held).
func (c *Console) apiSupporterErase(ctx echo.Context) error {
	req := ctx.Request()
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return ctx.JSON(http.StatusUnsupportedMediaType, map[string]string{"error": "send Content-Type: application/json"})
	}
	var body struct {
		Email string `json:"email"`
	}
	dec := json.NewDecoder(io.LimitReader(req.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return ctx.JSON(http.StatusBadRequest, map[string]string{"error": `the body must be {"email": "..."}`})
	}
	if dec.More() {
		return ctx.JSON(http.StatusBadRequest, map[string]string{"error": `the body must be one object {"email": "..."}`})
	}
	email, err := supporterEmail(body.Email)
	if err != nil {
		return ctx.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	n, err := c.privacy().Erase(req.Context(), email)
	if err != nil {
		return err
	}
	c.log.Info("admin api: supporter erased", "records", n)
	return ctx.JSON(http.StatusOK, erasedAnswer{Email: email, Erased: n})
}

// dryRunLinks are the dry-run confirmation links the dashboard shows.
func (c *Console) dryRunLinks() []confirm.DryRunLink {
	if c.d.Confirm == nil {
		return nil
	}
	return c.d.Confirm.DryRunLinks()
}

// apiSupporter is one supporter in GET /admin/api/supporters.
type apiSupporter struct {
	ID             int64  `json:"id"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Postcode       string `json:"postcode"`
	ConsentUpdates bool   `json:"consent_updates"`
	ConsentVersion string `json:"consent_version"`
	PrivacyVersion string `json:"privacy_version"`
	Status         string `json:"status"`
	Source         string `json:"source"`
	CreatedAt      string `json:"created_at"`
	// Updates (issue 26): how many the provider took for them, and when
	// they unsubscribed (null: they have not).
	UpdatesReceived int     `json:"updates_received"`
	UnsubscribedAt  *string `json:"unsubscribed_at"`
}

// apiSupporters is GET /admin/api/supporters?campaign=&after=&limit=: a
// campaign's supporters who have not been erased, in the order they wrote,
// with the source code each came through. after is a keyset cursor: the
// "next" of the previous page; next is null on the last page.
func (c *Console) apiSupporters(ctx echo.Context) error {
	slug := ctx.QueryParam("campaign")
	if _, ok := c.d.Campaigns.Get(slug); !ok && slug != "" {
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "there is no campaign with this slug"})
	}
	if slug == "" {
		slug = c.current(ctx).Slug
	}
	limit := 100
	if v := ctx.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return ctx.JSON(http.StatusBadRequest, map[string]string{"error": "limit must be between 1 and 1000"})
		}
		limit = n
	}
	var after int64
	if v := ctx.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return ctx.JSON(http.StatusBadRequest, map[string]string{"error": "after must be the next value of the previous page"})
		}
		after = n
	}
	rows, err := c.d.Store.Supporters(ctx.Request().Context(), slug, after, limit)
	if err != nil {
		return err
	}
	out := make([]apiSupporter, len(rows))
	for i, s := range rows {
		out[i] = apiSupporter{ID: s.ID, Email: s.Email, FirstName: s.FirstName, LastName: s.LastName, Postcode: s.Postcode,
			ConsentUpdates: s.ConsentUpdates, ConsentVersion: s.ConsentVersion, PrivacyVersion: s.PrivacyVersion, Status: s.Status,
			Source: s.Source, CreatedAt: rfc3339(s.CreatedAt), UpdatesReceived: s.UpdatesReceived}
		if s.UnsubscribedAt != nil {
			at := rfc3339(*s.UnsubscribedAt)
			out[i].UnsubscribedAt = &at
		}
	}
	var next *int64
	if len(rows) == limit {
		next = &rows[len(rows)-1].ID
	}
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.JSON(http.StatusOK, map[string]any{"campaign": slug, "supporters": out, "next": next})
}
