package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// The send log (/admin/messages) and one message's page with its actions.

const pageSize = 50

type messagesData struct {
	Rows    []store.MessageRow
	Filter  filterInput
	Bad     map[string]string
	Next    int64
	Targets []target.Target
	Query   string // the filter without the cursor, for links
	Older   int64  // a name search stopped before the page filled: the cursor to search on
	Window  int64  // supporters one name search covers
	// Entries are Rows as the page lists them: a letter sent alone is
	// one entry, and the letters of one digest on this page are one entry
	// (one email), at the place of its newest letter (issue 26).
	Entries []logEntry
}

// logEntry is one line of the send log: a message, or a digest with its
// letters on this page.
type logEntry struct {
	store.MessageRow                    // the message; for a digest, its newest letter on the page
	Letters          []store.MessageRow // a digest's letters on this page (nil: a single message)
}

// groupDigests makes the send log's entries of rows.
func groupDigests(rows []store.MessageRow) []logEntry {
	out := make([]logEntry, 0, len(rows))
	at := map[int64]int{}
	for _, r := range rows {
		if r.DigestID == 0 {
			out = append(out, logEntry{MessageRow: r})
			continue
		}
		if i, ok := at[r.DigestID]; ok {
			out[i].Letters = append(out[i].Letters, r)
			continue
		}
		at[r.DigestID] = len(out)
		out = append(out, logEntry{MessageRow: r, Letters: []store.MessageRow{r}})
	}
	return out
}

// filterFrom reads the send log filter; the campaign is the console's
// current one unless the query says "all".
func (c *Console) filterFrom(ctx echo.Context) filterInput {
	camp := ctx.QueryParam("campaign")
	if camp != allCampaigns {
		camp = c.current(ctx).Slug
	}
	return filterInput{Campaign: camp, Status: ctx.QueryParam("status"), Target: ctx.QueryParam("target"), From: ctx.QueryParam("from"),
		To: ctx.QueryParam("to"), Email: ctx.QueryParam("email"), Before: ctx.QueryParam("before")}
}

func (in filterInput) query() string {
	q := url.Values{}
	// The console's own campaign is implicit (a cookie); the all-campaigns
	// view is kept in the links.
	camp := ""
	if in.Campaign == allCampaigns {
		camp = allCampaigns
	}
	for k, v := range map[string]string{"campaign": camp, "status": in.Status, "target": in.Target, "from": in.From, "to": in.To, "email": in.Email} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func (c *Console) messagesPage(ctx echo.Context) error {
	in := c.filterFrom(ctx)
	f, bad := c.svc.parseFilter(in, pageSize)
	// The target menu lists the file's targets: counting messages per
	// target would cost a scan of the log on every page.
	d := messagesData{Filter: in, Bad: bad, Query: in.query(), Targets: c.d.Targets.Current().All, Window: matchWindow}
	rc := ctx.Request().Context()
	status := http.StatusOK
	if len(bad) > 0 {
		// Show the refused values back, bounded.
		status = http.StatusBadRequest
		d.Filter = in.bounded()
		d.Query = d.Filter.query()
	} else {
		rows, older, err := c.messagesPageRows(rc, f)
		if err != nil {
			return err
		}
		d.Rows, d.Older = rows, older
		d.Entries = groupDigests(rows)
		if len(rows) == pageSize {
			d.Next = rows[len(rows)-1].ID
		}
	}
	v := c.newView(ctx, "Send log", "messages", d)
	if len(bad) > 0 {
		v.Error = "The filter is not valid: " + badList(bad)
	}
	return c.render(ctx, status, "messages", v)
}

func (c *Console) messagePage(ctx echo.Context) error {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such message.")
	}
	m, err := c.d.Store.Message(ctx.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such message.")
	}
	if err != nil {
		return err
	}
	if m.TargetEmail == "" { // not claimed yet: shown as it would be sent to the target as it is now
		if t, ok := c.d.Targets.Current().ByID(m.TargetID); ok {
			m.TargetName, m.TargetEmail = t.Name, t.Email
			m.Copy.TargetName, m.Copy.Title, m.Copy.Salutation = t.Name, t.Title, t.Salutation
		}
	}
	if m.Body, err = c.d.Renderer.Copy(m.Copy); err != nil {
		return err
	}
	return c.render(ctx, http.StatusOK, "message", c.newView(ctx, fmt.Sprintf("Message %d", id), "messages", m))
}

func (c *Console) messageAction(ctx echo.Context) error {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such message.")
	}
	rc := ctx.Request().Context()
	back := fmt.Sprintf("/admin/messages/%d", id)
	switch ctx.Param("action") {
	case "retry":
		ok, err := c.svc.retryMessage(rc, id)
		if err != nil {
			return err
		}
		if !ok {
			return c.redirect(ctx, back, "notfailed")
		}
		return c.redirect(ctx, back, "retried")
	case "cancel":
		ok, err := c.svc.cancelMessage(rc, id)
		if err != nil {
			return err
		}
		if !ok {
			return c.redirect(ctx, back, "notqueued")
		}
		return c.redirect(ctx, back, "cancelled")
	}
	return echo.NewHTTPError(http.StatusNotFound, "Unknown action.")
}
