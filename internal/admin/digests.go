package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// digestsData is what templates/admin/digests.html shows: a campaign's
// digests, newest first, and with ?id= one of them: the email as its
// target received it and the letters inside (issue 26).
type digestsData struct {
	Campaign string
	Rows     []store.DigestRow
	One      *digestView
}

// digestView is one digest: its row, the email as sent and its letters.
type digestView struct {
	Row        store.DigestRow
	TargetName string
	Email      previewEmail
	Letters    []store.DigestLetter
}

// digestsPage lists a campaign's digests (issue 12): GET /admin/digests
// ?campaign=<slug> (default: the console's chosen campaign) &id=<digest>
// (one digest: its email and its letters).
func (c *Console) digestsPage(ctx echo.Context) error {
	if s := ctx.QueryParam("campaign"); s != "" {
		if _, ok := c.d.Campaigns.Get(s); !ok {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such campaign.")
		}
	}
	slug := c.current(ctx).Slug
	rctx := ctx.Request().Context()
	d := digestsData{Campaign: slug}
	title := "Digests"
	if s := ctx.QueryParam("id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such digest.")
		}
		one, err := c.digestView(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such digest.")
		}
		if err != nil {
			return err
		}
		d.One, d.Campaign = one, one.Row.Campaign
		title = "Digest " + s
	} else {
		var err error
		if d.Rows, err = c.d.Store.Digests(rctx, slug, 200); err != nil {
			return err
		}
	}
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return c.render(ctx, http.StatusOK, "digests", c.newView(ctx, title, "digests", d))
}

// digestView reads a digest and renders its email again from the letters
// it carried, with the digest template, the campaign and the target's
// salutation as recorded when it was formed.
func (c *Console) digestView(ctx echo.Context, id int64) (*digestView, error) {
	rc := ctx.Request().Context()
	row, err := c.d.Store.Digest(rc, id)
	if err != nil {
		return nil, err
	}
	letters, err := c.d.Store.DigestLettersOf(rc, id)
	if err != nil {
		return nil, err
	}
	v := &digestView{Row: row, Letters: letters, TargetName: row.TargetID}
	t, ok := c.d.Targets.Current().ByID(row.TargetID)
	if !ok {
		t = target.Target{ID: row.TargetID}
	}
	if len(letters) > 0 && letters[0].TargetName != "" {
		t.Name = letters[0].TargetName // as it was addressed
	}
	if t.Name != "" {
		v.TargetName = t.Name
	}
	v.Email = previewEmail{ID: "email", Heading: "The email", To: t.Name + " <" + t.Email + ">"}
	switch {
	case len(letters) == 0:
		v.Email.Off = "It carries no letter (every writer in it was erased): nothing was sent."
	case c.d.Delivery == nil:
		v.Email.Off = "No delivery policy: the digest cannot be rendered here."
	default:
		m, err := c.d.Delivery.RenderDigest(rc, row.Campaign, t, letters)
		if err != nil {
			v.Email.Error = err.Error()
			break
		}
		v.Email.From, v.Email.ReplyTo, v.Email.Subject, v.Email.Body = c.from(m.FromName), m.ReplyTo, m.Subject, m.Body
		if r, isR := c.d.Replies.(relayed); isR && r.Relayed(row.Campaign) {
			v.Email.ReplyTo, v.Email.ReplyNote = "", relayNote
		}
	}
	return v, nil
}
