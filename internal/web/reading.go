package web

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/reading"
	"github.com/outcry/outcry/internal/store"
)

// ReadingPages are what a target's reading page reads (issue 24).
type ReadingPages interface {
	ReadingLetters(ctx context.Context, f store.ReadingFilter) ([]store.ReadingLetter, error)
	ReadingDays(ctx context.Context, campaign, targetID string) ([]store.DayCount, error)
}

// readingView is a target's reading page: their letters, newest first,
// with the counts by day. It holds no supporter's email address.
type readingView struct {
	TargetName string
	Total      int
	Days       []store.DayCount
	Letters    []store.ReadingLetter
	Search     string
	Print      bool
	Path       string // the page's own path (the token in it)
	NextURL    string // older letters ("" when none)
	CSVURL     string
	PrintURL   string
}

// readingPageSize is how many letters one reading page shows (the
// printable view: readingPrintSize).
const (
	readingPageSize  = 100
	readingPrintSize = 2000
)

var errNoReading = echo.NewHTTPError(http.StatusNotFound, "This reading link is not valid, or the campaign has replaced it. Ask the campaign for the current link.")

// readingTarget checks the token in the URL and returns the campaign and
// the target it opens.
func (s *Server) readingTarget(c echo.Context) (string, string, error) {
	camp, err := s.campaignFor(c)
	if err != nil {
		return "", "", err
	}
	if s.d.Reading == nil || s.d.ReadingStore == nil {
		return "", "", errNoReading
	}
	targetID, err := s.d.Reading.Check(c.Request().Context(), camp.Slug, c.Param("token"))
	if errors.Is(err, reading.ErrInvalid) {
		return "", "", errNoReading
	}
	if err != nil {
		return "", "", err
	}
	privatePage(c)
	return camp.Slug, targetID, nil
}

// readingPage is GET /c/{slug}/for/{token}[?q=…&before=…&print=1].
func (s *Server) readingPage(c echo.Context) error {
	slug, targetID, err := s.readingTarget(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	camp, _ := s.d.Campaigns.Get(slug)
	path := reading.Path(slug, c.Param("token"))
	v := &readingView{TargetName: targetID, Search: strings.TrimSpace(c.QueryParam("q")), Print: c.QueryParam("print") == "1",
		Path: path, CSVURL: path + "/letters.csv", PrintURL: path + "?print=1"}
	if t, ok := s.d.Targets.Current().ByID(targetID); ok {
		v.TargetName = strings.TrimSpace(t.Title + " " + t.Name)
	}
	if v.Days, err = s.d.ReadingStore.ReadingDays(ctx, slug, targetID); err != nil {
		return err
	}
	for _, d := range v.Days {
		v.Total += d.N
	}
	f := store.ReadingFilter{Campaign: slug, TargetID: targetID, Search: v.Search, Limit: readingPageSize + 1}
	if v.Print {
		f.Limit = readingPrintSize + 1
	}
	if at, id, ok := parseBefore(c.QueryParam("before")); ok {
		f.BeforeAt, f.BeforeID = at, id
	}
	if v.Letters, err = s.d.ReadingStore.ReadingLetters(ctx, f); err != nil {
		return err
	}
	if len(v.Letters) == f.Limit {
		v.Letters = v.Letters[:f.Limit-1]
		last := v.Letters[len(v.Letters)-1]
		q := url.Values{"before": {strconv.FormatInt(last.SentAt.UnixMilli(), 10) + "-" + strconv.FormatInt(last.ID, 10)}}
		if v.Search != "" {
			q.Set("q", v.Search)
		}
		if v.Print {
			q.Set("print", "1")
		}
		v.NextURL = path + "?" + q.Encode()
	}
	p, err := s.newPage(ctx, camp)
	if err != nil {
		return err
	}
	p.Reading = v
	return s.render(c, http.StatusOK, "reading", p)
}

// parseBefore reads the "older letters" cursor: sent time (ms) and id.
func parseBefore(s string) (time.Time, int64, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return time.Time{}, 0, false
	}
	ms, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || ms <= 0 || id <= 0 {
		return time.Time{}, 0, false
	}
	return time.UnixMilli(ms), id, true
}

// readingCSV is GET /c/{slug}/for/{token}/letters.csv: every letter to the
// target, newest first, streamed.
func (s *Server) readingCSV(c echo.Context) error {
	slug, targetID, err := s.readingTarget(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Time{})
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="letters-`+slug+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	w.Write([]string{"sent_at", "first_name", "last_name", "postcode", "subject", "letter"})
	f := store.ReadingFilter{Campaign: slug, TargetID: targetID, Search: strings.TrimSpace(c.QueryParam("q")), Limit: 500}
	for {
		rows, err := s.d.ReadingStore.ReadingLetters(ctx, f)
		if err != nil {
			s.log.Error("reading page: CSV cut short", "err", err)
			break
		}
		for _, l := range rows {
			w.Write([]string{l.SentAt.Format(time.RFC3339), csvSafe(l.FirstName), csvSafe(l.LastName), csvSafe(l.Postcode),
				csvSafe(l.Subject), csvSafe(l.Body)})
		}
		w.Flush()
		c.Response().Flush()
		if len(rows) < f.Limit {
			break
		}
		last := rows[len(rows)-1]
		f.BeforeAt, f.BeforeID = last.SentAt, last.ID
	}
	w.Flush()
	return w.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(f string) string {
	if f != "" && strings.IndexByte("=+-@\t\r", f[0]) >= 0 {
		return "'" + f
	}
	return f
}
