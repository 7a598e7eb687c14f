package web

import (
	"errors"
	"maps"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/targeting"
)

// Who a letter goes to (issue 21): the lookup endpoint and what the
// campaign page shows of it.

// apiTarget is one target as the lookup endpoint shows it.
type apiTarget struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	Area     string `json:"area"`      // the area code it represents here ("" for everyone)
	AreaName string `json:"area_name"` // its name
}

// apiTargets is GET /api/v1/campaigns/{slug}/targets?postcode=…[&area=CODE]:
// who a letter from this postcode would go to. A postcode of bad form (or,
// without fallback targets, one nobody represents) is a 422 naming postcode.
func (s *Server) apiTargets(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	res, err := s.lookup(camp, c.QueryParam("postcode"), c.QueryParam("area"))
	var fe targeting.FieldErrors
	if errors.As(err, &fe) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": fe.In(s.d.Messages.T)})
	}
	if err != nil {
		return err
	}
	out := map[string]any{
		"areas":    res.Areas,
		"split":    res.Split,
		"fallback": res.Fallback,
		"targets":  apiTargetsOf(res),
	}
	if res.Areas == nil {
		out["areas"] = []any{}
	}
	tg := camp.Targeting
	lo, hi := targeting.Bounds(tg, len(res.Matched))
	out["choose"] = map[string]any{"on": tg.Choose, "min": lo, "max": hi}
	out["sample"] = tg.Sample
	if !res.Split {
		l := targeting.Letter(camp, res.Matched)
		out["letter"] = map[string]string{"subject": l.Subject, "body": l.Body}
		out["greeting"] = greeting(res.Matched)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// lookup resolves who a postcode writes to, without a choice or a draw.
func (s *Server) lookup(camp *campaign.Campaign, postcode, area string) (targeting.Result, error) {
	if len(postcode) > 64 || len(area) > 64 {
		return targeting.Result{}, targeting.FieldErrors{"postcode": targeting.MsgPostcodeForm}
	}
	return targeting.Resolve(camp, s.d.Targets.Current(), s.d.Areas.Current(),
		targeting.Request{Postcode: postcode, Area: area, Lookup: true})
}

func apiTargetsOf(res targeting.Result) []apiTarget {
	out := make([]apiTarget, 0, len(res.Matched))
	for _, t := range res.Matched {
		a := res.AreaOf(t)
		out = append(out, apiTarget{ID: t.ID, Name: t.Name, Title: t.Title, Area: a.Code, AreaName: a.Label()})
	}
	return out
}

// greeting is the salutation every copy begins with, when there is one
// target ("" with several: each copy greets its own).
func greeting(ts []target.Target) string {
	if len(ts) == 1 {
		return ts[0].Salutation
	}
	return ""
}

// lookupLimit limits lookups per client IP: ten times the letters'
// rate (OUTCRY_SUBMIT_RATE; a lookup follows the typing), at least one a
// second; nil when letters are not limited.
func (s *Server) lookupLimit() echo.MiddlewareFunc {
	perMin := s.d.Security.SubmitRate
	if perMin <= 0 {
		return nil
	}
	perMin = max(perMin*10, 60)
	retryAfter := strconv.Itoa(int(math.Ceil(60 / float64(perMin))))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               newClientLimits(float64(perMin)/60, 20, 3*time.Minute),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			return echo.NewHTTPError(http.StatusTooManyRequests, "Too many look-ups from your network in a short time. Please wait a moment and try again.")
		},
	})
}

// recipient is one target named on the campaign page.
type recipient struct {
	ID, Name, Title, AreaName string
	Checked                   bool
}

// pick is what the campaign page shows of who the letter goes to.
type pick struct {
	ByArea   bool
	Looked   bool // a postcode was looked up (it may have failed)
	Res      targeting.Result
	Choose   bool
	Lo, Hi   int
	Sample   int
	Greeting string
}

// Resolved: the letter's targets are known, the letter form is shown.
func (p *pick) Resolved() bool {
	return !p.ByArea || p.Looked && !p.Res.Split && len(p.Res.Matched) > 0
}

// Recipients are the targets shown, ticked as chosen.
func (p *pick) Recipients(chosen []string) []recipient {
	var out []recipient
	for _, t := range p.Res.Matched {
		r := recipient{ID: t.ID, Name: t.Name, Title: t.Title, AreaName: p.Res.AreaOf(t).Label()}
		for _, id := range chosen {
			r.Checked = r.Checked || id == t.ID
		}
		out = append(out, r)
	}
	return out
}

// fillPick works out who the page shows the letter going to, from the
// postcode and area typed (GET step or a form sent back); errors go on
// the page's fields. It reports whether the postcode was refused.
func (s *Server) fillPick(p *page, camp *campaign.Campaign, postcode, area string) (refused bool) {
	tg := camp.Targeting
	p.Pick = &pick{ByArea: tg.ByArea(), Choose: tg.Choose, Sample: tg.Sample}
	if !tg.ByArea() {
		p.Pick.Res, _ = targeting.Resolve(camp, s.d.Targets.Current(), nil, targeting.Request{Lookup: true})
	} else if postcode != "" {
		p.Pick.Looked = true
		res, err := s.lookup(camp, postcode, area)
		p.Pick.Res = res
		var fe targeting.FieldErrors
		if errors.As(err, &fe) {
			if p.Errors == nil {
				p.Errors = map[string]string{}
			}
			maps.Copy(p.Errors, fe.In(s.d.Messages.T))
			refused = true
		}
	}
	p.Pick.Lo, p.Pick.Hi = targeting.Bounds(tg, len(p.Pick.Res.Matched))
	p.Pick.Greeting = greeting(p.Pick.Res.Matched)
	return refused
}
