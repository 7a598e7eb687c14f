package admin

import (
	"context"
	"fmt"
	"github.com/outcry/outcry/internal/similar"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// Reading is what the "Letters read" page needs of the database (issue 24):
// how many letters are in their writers' own words, by subject line, and
// the state of each target's reading link.
type Reading interface {
	LetterShares(ctx context.Context, campaign string, threshold float64) (store.LetterShares, error)
	SubjectCounts(ctx context.Context, campaign string, limit int) ([]store.SubjectCount, error)
	ReadingLinks(ctx context.Context, campaign string) (map[string]store.ReadingLink, error)
}

// readingData is what templates/admin/reading.html shows.
type readingData struct {
	Campaign      string
	Similar       float64
	Shares        store.LetterShares
	PersonalShare *float64
	Subjects      []subjectRow
	Links         []readingLinkRow
}

type subjectRow struct {
	Subject string
	Variant bool // one of the campaign's subject lines (else written by supporters)
	Letters int
	Sent    int
}

type readingLinkRow struct {
	TargetID, Name string
	URL            string // "" when revoked
	Revoked        bool
	Generation     int64
}

// personalShare is the share of measured letters in their writers' own
// words (below OUTCRY_SIMILAR), or nil when none was measured.
func personalShare(s store.LetterShares) *float64 {
	if s.Measured == 0 {
		return nil
	}
	v := float64(s.Personal) / float64(s.Measured)
	return &v
}

func (c *Console) similar() float64 {
	if c.d.Similar > 0 {
		return c.d.Similar
	}
	return similar.DefaultThreshold
}

// readingPage is GET /admin/reading: the share of letters in own words,
// letters by subject line, and each target's reading link.
func (c *Console) readingPage(ctx echo.Context) error {
	camp := c.current(ctx)
	rctx := ctx.Request().Context()
	d := readingData{Campaign: camp.Slug, Similar: c.similar()}
	var err error
	if d.Shares, err = c.d.Store.LetterShares(rctx, camp.Slug, d.Similar); err != nil {
		return err
	}
	d.PersonalShare = personalShare(d.Shares)
	counts, err := c.d.Store.SubjectCounts(rctx, camp.Slug, 50)
	if err != nil {
		return err
	}
	variants := map[string]bool{}
	for _, v := range camp.Letter.Variants() {
		variants[v] = true
		found := false
		for _, sc := range counts {
			found = found || sc.Subject == v
		}
		if !found {
			d.Subjects = append(d.Subjects, subjectRow{Subject: v, Variant: true})
		}
	}
	for _, sc := range counts {
		d.Subjects = append(d.Subjects, subjectRow{Subject: sc.Subject, Variant: variants[sc.Subject], Letters: sc.Letters, Sent: sc.Sent})
	}
	if c.d.Reading != nil {
		links, err := c.d.Store.ReadingLinks(rctx, camp.Slug)
		if err != nil {
			return err
		}
		for _, t := range letter.TargetsOf(camp, c.d.Targets.Current()) {
			row := readingLinkRow{TargetID: t.ID, Name: t.Name, Generation: 1}
			if l, ok := links[t.ID]; ok {
				row.Revoked, row.Generation = l.Revoked, l.Generation
			}
			if !row.Revoked {
				if row.URL, err = c.d.Reading.URL(rctx, camp.Slug, t.ID); err != nil {
					return err
				}
			}
			d.Links = append(d.Links, row)
		}
	}
	t, err := template.New("reading").Funcs(funcs).ParseFS(c.d.Templates, "admin/layout.html", "admin/reading.html")
	if err != nil {
		return fmt.Errorf("admin: parse admin/reading.html: %w", err)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", c.newView(ctx, "Letters read", "reading", d)); err != nil {
		return fmt.Errorf("admin: render reading: %w", err)
	}
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.HTML(http.StatusOK, b.String())
}

// readingAction is POST /admin/reading/{target}/{revoke|reissue}.
func (c *Console) readingAction(ctx echo.Context) error {
	camp := c.current(ctx)
	id := ctx.Param("id")
	if !target.ValidID(id) || c.d.Reading == nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no target with this id.")
	}
	rctx := ctx.Request().Context()
	var flash string
	switch ctx.Param("action") {
	case "revoke":
		if err := c.d.Reading.Revoke(rctx, camp.Slug, id); err != nil {
			return err
		}
		flash = "link-revoked"
	case "reissue":
		if _, err := c.d.Reading.Reissue(rctx, camp.Slug, id); err != nil {
			return err
		}
		flash = "link-reissued"
	default:
		return echo.NewHTTPError(http.StatusNotFound, "Unknown action.")
	}
	c.log.Info("admin: reading link", "campaign", camp.Slug, "target", id, "action", ctx.Param("action"))
	return c.redirect(ctx, "/admin/reading", flash)
}
