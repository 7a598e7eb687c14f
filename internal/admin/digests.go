package admin

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/store"
)

// digestsData is what templates/admin/digests.html shows: a campaign's
// digests, newest first, and with ?id= the letters of one of them.
type digestsData struct {
	Campaign string
	Rows     []store.DigestRow
	ID       int64
	Letters  []int64
}

// digestsPage lists a campaign's digests (issue 12): GET /admin/digests
// ?campaign=<slug> (default: the console's chosen campaign) &id=<digest> (its
// letters). Register it in routes: g.GET("/digests", c.digestsPage).
func (c *Console) digestsPage(ctx echo.Context) error {
	if s := ctx.QueryParam("campaign"); s != "" {
		if _, ok := c.d.Campaigns.Get(s); !ok {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
		}
	}
	slug := c.current(ctx).Slug
	rctx := ctx.Request().Context()
	d := digestsData{Campaign: slug}
	var err error
	if d.Rows, err = c.d.Store.Digests(rctx, slug, 200); err != nil {
		return err
	}
	if s := ctx.QueryParam("id"); s != "" {
		if d.ID, err = strconv.ParseInt(s, 10, 64); err != nil || d.ID <= 0 {
			return echo.NewHTTPError(http.StatusNotFound, "no such digest")
		}
		if d.Letters, err = c.d.Store.DigestMessages(rctx, d.ID); err != nil {
			return err
		}
	}
	t, err := template.New("digests").Funcs(funcs).ParseFS(c.d.Templates, "admin/layout.html", "admin/digests.html")
	if err != nil {
		return fmt.Errorf("admin: parse admin/digests.html: %w", err)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", c.newView(ctx, "Digests", "messages", d)); err != nil {
		return fmt.Errorf("admin: render digests: %w", err)
	}
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.HTML(http.StatusOK, b.String())
}
