package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/targeting"
)

// The areas page (issue 21): the areas file in force, what is wrong
// between it and the targets, the current campaign's targeting, and a box
// that shows what a supporter of a postcode would see.

type areasData struct {
	Path      string
	Index     *area.Index // nil: no file
	Version   string
	Refused   string // the last reload refused, with its line
	Warnings  []string
	Targeting campaign.Targeting
	Targets   []target.Target // the campaign's active targets (fallback choices)
	Errors    campaign.FieldErrors
	// The test-a-postcode box.
	Postcode, Area string
	Tested         bool
	Test           targeting.Result
	TestErr        map[string]string
	TestLetter     campaign.Letter
}

// IsFallback reports whether a target is one of the fallback targets.
func (d areasData) IsFallback(id string) bool { return slices.Contains(d.Targeting.Fallback, id) }

// AreaLabel names a tested target's area.
func (d areasData) AreaLabel(t target.Target) string { return d.Test.AreaOf(t).Label() }

func (c *Console) areasPage(ctx echo.Context) error {
	camp := c.current(ctx)
	return c.renderAreas(ctx, http.StatusOK, camp, camp.Targeting, nil)
}

func (c *Console) renderAreas(ctx echo.Context, status int, camp *campaign.Campaign, tg campaign.Targeting, fe campaign.FieldErrors) error {
	d := areasData{Targeting: tg, Errors: fe, Targets: targeting.Base(camp, c.d.Targets.Current())}
	if c.d.Areas != nil {
		d.Path, d.Index, d.Refused = c.d.Areas.Path(), c.d.Areas.Current(), c.d.Areas.LastError()
	}
	if d.Index != nil {
		d.Version = d.Index.Version.String()
	}
	d.Warnings = areaWarnings(d.Index, c.d.Targets.Current().Active(), c.d.Campaigns.All())
	if pc := ctx.QueryParam("postcode"); pc != "" {
		d.Postcode, d.Area, d.Tested = pc, ctx.QueryParam("area"), true
		res, err := targeting.Resolve(camp, c.d.Targets.Current(), d.Index, targeting.Request{Postcode: pc, Area: d.Area, Lookup: true})
		d.Test = res
		var tfe targeting.FieldErrors
		if errors.As(err, &tfe) {
			d.TestErr = tfe.In(i18n.Default().T)
		} else if err != nil {
			return err
		}
		d.TestLetter = targeting.Letter(camp, res.Matched)
	}
	return c.render(ctx, status, "areas", c.newView(ctx, "Areas and targeting", "areas", d))
}

// areaWarnings lists what stands between the areas file and the targets.
func areaWarnings(ix *area.Index, active []target.Target, camps []*campaign.Campaign) []string {
	var out []string
	byArea := false
	for _, c := range camps {
		if c.Targeting.ByArea() {
			byArea = true
			if ix == nil {
				out = append(out, "Campaign “"+c.Title+"” matches targets by area, but there is no areas file (set OUTCRY_AREAS): every postcode is unmatched"+
					map[bool]string{true: " and goes to the fallback targets.", false: " and refused."}[len(c.Targeting.Fallback) > 0])
			}
		}
	}
	if ix == nil {
		return out
	}
	covered := map[string]bool{}
	for _, t := range active {
		for _, a := range t.Areas {
			covered[a] = true
			if !ix.HasArea(a) {
				out = append(out, "Target "+t.ID+" represents area "+a+", which is not in the areas file: nobody is matched to it.")
			}
		}
	}
	if byArea {
		var none []string
		for _, a := range ix.Areas() {
			if !covered[a.Code] {
				none = append(none, a.Code)
			}
		}
		if len(none) > 0 {
			list := strings.Join(none[:min(len(none), 20)], ", ")
			if len(none) > 20 {
				list += ", …"
			}
			out = append(out, strconv.Itoa(len(none))+" area(s) of the file have no active target (their supporters get the fallback, or are refused): "+list)
		}
	}
	return out
}

// areasPost saves the current campaign's targeting.
func (c *Console) areasPost(ctx echo.Context) error {
	camp := c.current(ctx)
	form, _ := ctx.FormParams()
	num := func(name string) int {
		n, _ := strconv.Atoi(strings.TrimSpace(form.Get(name)))
		return n
	}
	tg := campaign.Targeting{Match: form.Get("match"), Choose: form.Get("choose") != "", Min: num("min"), Max: num("max"),
		Sample: num("sample"), Fallback: slices.DeleteFunc(slices.Clone(form["fallback"]), func(s string) bool { return s == "" })}
	_, err := c.d.Campaigns.Update(ctx.Request().Context(), camp.Slug, campaign.Input{Targeting: &tg})
	var fe campaign.FieldErrors
	if errors.As(err, &fe) {
		return c.renderAreas(ctx, http.StatusUnprocessableEntity, camp, tg, fe)
	}
	if err != nil {
		return err
	}
	c.log.Info("admin: targeting saved", "campaign", camp.Slug, "match", tg.Match)
	return c.redirect(ctx, "/admin/areas", "targeting")
}

// AreasVersionOf is how the send log names the areas file a message was
// matched with.
func (messagesData) AreasVersionOf(v string) string { return v }

// Join shows a target's areas.
func (targetsData) Join(areas []string) string { return strings.Join(areas, ", ") }
