package admin

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/store"
)

// repliesData is what templates/admin/replies.html shows.
type repliesData struct {
	Campaign string
	Filter   string // "" all, or a state
	Rows     []store.Reply
	Actions  bool
}

// repliesPage is GET /admin/replies ?campaign=<slug> &state=held|pending|…:
// what came back through the relay (issue 22), newest first: replies held
// for acceptance (not from the target's address), replies to digests
// waiting to be published, and what was forwarded, published or only
// recorded (acknowledgements, unmatched mail).
func (c *Console) repliesPage(ctx echo.Context) error {
	if s := ctx.QueryParam("campaign"); s != "" {
		if _, ok := c.d.Campaigns.Get(s); !ok {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
		}
	}
	d := repliesData{Campaign: c.current(ctx).Slug, Filter: ctx.QueryParam("state"), Actions: c.d.Replies != nil}
	f := store.ReplyFilter{Campaign: d.Campaign, Limit: 200}
	if d.Filter != "" {
		f.States = []store.ReplyState{store.ReplyState(d.Filter)}
	}
	rows, err := c.d.Store.Replies(ctx.Request().Context(), f)
	if err != nil {
		return err
	}
	d.Rows = rows
	if d.Filter == "" {
		// Unmatched mail belongs to no campaign: shown with every campaign.
		un, err := c.d.Store.Replies(ctx.Request().Context(), store.ReplyFilter{Campaign: "", States: []store.ReplyState{store.StateRecorded}, Limit: 50})
		if err != nil {
			return err
		}
		for _, r := range un {
			if r.Campaign == "" {
				d.Rows = append(d.Rows, r)
			}
		}
	}
	return c.render(ctx, http.StatusOK, "replies", c.newView(ctx, "Replies", "replies", d))
}

// replyAction is POST /admin/replies/{id}/{publish|accept|drop}.
func (c *Console) replyAction(ctx echo.Context) error {
	if c.d.Replies == nil {
		return echo.NewHTTPError(http.StatusNotFound, "replies are off")
	}
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "no such reply")
	}
	rctx := ctx.Request().Context()
	var ok bool
	var flash string
	switch ctx.Param("action") {
	case "publish":
		ok, err = c.d.Replies.Publish(rctx, id)
		flash = "published"
	case "accept":
		ok, err = c.d.Replies.Accept(rctx, id)
		flash = "accepted"
	case "drop":
		ok, err = c.d.Replies.Drop(rctx, id)
		flash = "declined"
	default:
		return echo.NewHTTPError(http.StatusNotFound, "no such action")
	}
	if err != nil {
		return err
	}
	if !ok {
		flash = "undecided"
	}
	return c.redirect(ctx, "/admin/replies", flash)
}
