package admin

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/store"
)

// apiMessage is one message in GET /admin/api/messages.
type apiMessage struct {
	ID                int64   `json:"id"`
	Campaign          string  `json:"campaign"`
	DigestID          *int64  `json:"digest_id"` // the digest that carried it (null: sent alone, or not yet)
	TargetID          string  `json:"target_id"`
	TargetEmail       string  `json:"target_email"`
	SupporterEmail    string  `json:"supporter_email"`
	Status            string  `json:"status"`
	Attempts          int     `json:"attempts"`
	LastError         string  `json:"last_error"`
	ProviderMessageID string  `json:"provider_message_id"`
	QueuedAt          string  `json:"queued_at"`
	SentAt            *string `json:"sent_at"`
	UpdatedAt         string  `json:"updated_at"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// apiMessages is GET /admin/api/messages?status=&target=&after=&limit=.
// Messages come newest first (by id). after is a keyset cursor: give the
// "next" value of the previous answer to get the messages listed after it,
// that is, older ones with a smaller id. Messages that arrive meanwhile never
// shift a page. next is null on the last page.
func (c *Console) apiMessages(ctx echo.Context) error {
	limit := 100
	if v := ctx.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return ctx.JSON(http.StatusBadRequest, map[string]string{"error": "limit must be between 1 and 1000"})
		}
		limit = n
	}
	f, bad := c.svc.parseFilter(filterInput{Campaign: ctx.QueryParam("campaign"), Status: ctx.QueryParam("status"), Target: ctx.QueryParam("target"),
		From: ctx.QueryParam("from"), To: ctx.QueryParam("to"), Email: ctx.QueryParam("email"),
		Before: ctx.QueryParam("after")}, limit)
	if len(bad) > 0 {
		if msg, ok := bad["before"]; ok {
			delete(bad, "before")
			bad["after"] = msg
		}
		return ctx.JSON(http.StatusBadRequest, errorsAnswer{Errors: bad})
	}
	rows, err := c.d.Store.Messages(ctx.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]apiMessage, len(rows))
	for i, m := range rows {
		out[i] = apiMessage{ID: m.ID, Campaign: m.Campaign, TargetID: m.TargetID, TargetEmail: c.targetEmail(m), SupporterEmail: m.SupporterEmail,
			Status: m.Status, Attempts: m.Attempts, LastError: m.LastError, ProviderMessageID: m.ProviderMessageID,
			QueuedAt: rfc3339(m.QueuedAt), UpdatedAt: rfc3339(m.UpdatedAt)}
		if m.SentAt != nil {
			s := rfc3339(*m.SentAt)
			out[i].SentAt = &s
		}
		if m.DigestID != 0 {
			out[i].DigestID = &m.DigestID
		}
	}
	var next *int64
	if len(rows) == limit {
		next = &rows[len(rows)-1].ID
	}
	return ctx.JSON(http.StatusOK, messagesAnswer{Messages: out, Next: next})
}

// apiStats is GET /admin/api/stats.
func (c *Console) apiStats(ctx echo.Context) error {
	slug := ctx.QueryParam("campaign")
	if _, ok := c.d.Campaigns.Get(slug); !ok && slug != "" {
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "there is no campaign with this slug"})
	}
	if slug == "" {
		slug = c.current(ctx).Slug
	}
	st, err := c.svc.stats(ctx.Request().Context(), slug)
	if err != nil {
		return err
	}
	return ctx.JSON(http.StatusOK, st)
}

func (c *Console) metrics(ctx echo.Context) error {
	if c.d.Metrics == nil {
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "metrics are not configured"})
	}
	c.d.Metrics.Handler().ServeHTTP(ctx.Response(), ctx.Request())
	return nil
}

// csvWriter streams CSV rows, flushing to the client every 256 rows.
type csvWriter struct {
	ctx echo.Context
	w   *csv.Writer
	n   int
}

func startCSV(ctx echo.Context, filename string, header []string) *csvWriter {
	// A million-row export outlasts the server's write timeout: lift it for
	// this response only (the rows stream, so memory stays flat).
	_ = http.NewResponseController(ctx.Response()).SetWriteDeadline(time.Time{})
	h := ctx.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	ctx.Response().WriteHeader(http.StatusOK)
	cw := &csvWriter{ctx: ctx, w: csv.NewWriter(ctx.Response())}
	cw.w.Write(header)
	return cw
}

func (cw *csvWriter) row(fields ...string) error {
	for i, f := range fields {
		fields[i] = csvCell(f)
	}
	if err := cw.w.Write(fields); err != nil {
		return err
	}
	cw.n++
	if cw.n%256 == 0 {
		cw.w.Flush()
		cw.ctx.Response().Flush()
	}
	return cw.w.Error()
}

// csvCell neutralizes spreadsheet formulas: a cell, and every ';'-separated
// part of it (a spreadsheet opened with ';' as the separator splits there),
// that starts with = + - @ tab or CR gets a leading apostrophe.
func csvCell(f string) string {
	if !strings.ContainsAny(f, "=+-@\t\r") {
		return f
	}
	parts := strings.Split(f, ";")
	for i, p := range parts {
		if p != "" && strings.IndexByte("=+-@\t\r", p[0]) >= 0 {
			parts[i] = "'" + p
		}
	}
	return strings.Join(parts, ";")
}

func (cw *csvWriter) end() error {
	cw.w.Flush()
	return cw.w.Error()
}

// messagesCSV exports the filtered send log, row by row as it is read.
func (c *Console) messagesCSV(ctx echo.Context) error {
	in := c.filterFrom(ctx)
	in.Before = ""
	f, bad := c.svc.parseFilter(in, 0)
	if len(bad) > 0 {
		// Plain text: the site's error page would not say what is wrong.
		return ctx.String(http.StatusBadRequest, "The filter is not valid ("+badList(bad)+"); go back to the send log.\n")
	}
	cw := startCSV(ctx, "outcry-messages.csv", []string{"id", "target_id", "target_email", "supporter_email", "status",
		"attempts", "last_error", "provider_message_id", "queued_at", "sent_at", "updated_at", "campaign", "digest_id", "area", "areas_version"})
	err := c.d.Store.EachMessage(ctx.Request().Context(), f, func(m store.MessageRow) error {
		sent := ""
		if m.SentAt != nil {
			sent = rfc3339(*m.SentAt)
		}
		return cw.row(strconv.FormatInt(m.ID, 10), m.TargetID, c.targetEmail(m), m.SupporterEmail, m.Status,
			strconv.Itoa(m.Attempts), m.LastError, m.ProviderMessageID, rfc3339(m.QueuedAt), sent, rfc3339(m.UpdatedAt), m.Campaign,
			digestCell(m.DigestID), m.Area, m.AreasVersion)
	})
	if err == nil {
		err = cw.end()
	}
	if err != nil {
		c.log.Error("admin: messages export cut short", "err", err)
	}
	return nil
}

// supportersCSV exports supporters with their consent, row by row.
func (c *Console) supportersCSV(ctx echo.Context) error {
	cw := startCSV(ctx, "outcry-supporters.csv", []string{"id", "email", "first_name", "last_name", "postcode",
		"consent_updates", "consent_version", "privacy_version", "status", "created_at", "source"})
	err := c.d.Store.EachSupporter(ctx.Request().Context(), c.current(ctx).Slug, func(s store.SupporterRow) error {
		return cw.row(strconv.FormatInt(s.ID, 10), s.Email, s.FirstName, s.LastName, s.Postcode,
			strconv.FormatBool(s.ConsentUpdates), s.ConsentVersion, s.PrivacyVersion, s.Status, rfc3339(s.CreatedAt), s.Source)
	})
	if err == nil {
		err = cw.end()
	}
	if err != nil {
		c.log.Error("admin: supporters export cut short", "err", err)
	}
	return nil
}

// targetEmail is the address of a message's target: the one recorded when
// the sender claimed it, else (queued, not claimed yet) the target's
// address now, which it will be sent to; "" for a target no longer in the
// file. (The export left it empty for queued rows: issue 26.)
func (c *Console) targetEmail(m store.MessageRow) string {
	if m.TargetEmail != "" {
		return m.TargetEmail
	}
	if t, ok := c.d.Targets.Current().ByID(m.TargetID); ok {
		return t.Email
	}
	return ""
}

// digestCell is a digest id in the CSV ("" for a letter sent alone).
func digestCell(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
