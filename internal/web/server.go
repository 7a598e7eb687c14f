// Package web serves the public pages and the public JSON API: the campaign
// page, the letter form, the thank-you page and the embedding API.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/preview"
	"github.com/outcry/outcry/internal/reading"
	"github.com/outcry/outcry/internal/receipt"
	"github.com/outcry/outcry/internal/reply"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// Store is what the public pages, the API and the webhook need of the database.
type Store interface {
	Health
	SupporterCounter
	WebhookEvents
	receipt.Store // for the receipt links' Service made when Deps.Receipts is nil
}

// SupporterCounter gives the count of supporters shown on a campaign's pages.
type SupporterCounter interface {
	SupporterCount(ctx context.Context, campaign string) (int, error)
}

// Health is what /healthz checks: the database answers and accepts writes.
type Health interface {
	Ping(ctx context.Context) error
	WriteFailedWithin(d time.Duration) error
	ProbeWrite(ctx context.Context) error
}

// Deps is what the web layer needs.
type Deps struct {
	// Campaigns are every campaign; each page takes its own from the URL.
	Campaigns *campaign.Service
	// Organizer runs the site: the privacy notice and pages outside any
	// campaign name it.
	Organizer campaign.Organizer
	Letters   *letter.Service
	Store     Store
	Targets   *target.Registry
	Areas     *area.Registry // OUTCRY_AREAS (nil: none)
	Templates fs.FS          // page templates (layout.html, campaign.html…)
	Static    fs.FS          // served under /static/
	// SeeRequest, when set, is shown every request before it is handled
	// (golive.Readiness notes a proxy that OUTCRY_TRUSTED_PROXIES misses).
	SeeRequest func(*http.Request)
	// DryRun: no SENDGRID_API_KEY, nothing leaves the machine; every public
	// page and the receipt say so.
	DryRun        bool
	BaseURL       string
	RetentionDays int
	// WebhookPublicKey verifies SendGrid's signed Event Webhook. Without
	// it the webhook is off unless WebhookUnsigned opts into unsigned posts
	// (OUTCRY_WEBHOOK_UNSIGNED), which anyone can forge.
	WebhookPublicKey string
	WebhookUnsigned  bool
	Logger           *slog.Logger
	// Messages is the language of the pages (nil: English).
	Messages *i18n.Catalog
	Security Security
	// Confirm checks confirmation links (nil: OUTCRY_CONFIRM is off).
	Confirm *confirm.Service
	// Receipts makes the private receipt links (nil: one without email,
	// signed with Security.FormSecret).
	Receipts *receipt.Service
	// MaxRequests bounds the requests being handled at once; one more is
	// refused at once with 503 (overload.go). 0: no bound.
	MaxRequests int

	// What comes back (issue 22). InboundSecret is OUTCRY_INBOUND_SECRET
	// ("" = /webhooks/sendgrid/inbound/… is off); Replies takes inbound
	// email; Followups checks and records follow-up answers; Responses
	// reads replies and answers for the receipt and the campaign page.
	InboundSecret string
	Replies       *reply.Service
	Followups     *reply.Followups
	Responses     Responses
	// Reading checks the links of the targets' reading pages and
	// ReadingStore reads them (issue 24); nil: no reading pages.
	Reading      *reading.Links
	ReadingStore ReadingPages
}

// Server is the HTTP server's routes and templates.
type Server struct {
	Echo  *echo.Echo
	d     Deps
	pages map[string]*template.Template
	log   *slog.Logger
	// The campaigns' link-preview PNGs, each drawn on its first request
	// and kept by the words drawn on it (an edit draws a new one).
	previewMu sync.Mutex
	previews  map[[3]string][]byte

	counts       sync.Map      // campaign slug -> its last supporter count, shown while the database is out of reach
	webhookReads webhookReads  // webhook bodies being read (webhook_read.go)
	inboundSlots chan struct{} // Inbound Parse posts being read (replies.go)
	probe        struct {      // the last write probe of /healthz
		mu  sync.Mutex
		at  time.Time
		err error
	}
}

var pageNames = []string{"campaign", "thanks", "error", "privacy", "confirm", "receipt", "home", "reading", "embed", "followup"}

// New builds the server and parses every page template (a broken template
// stops start-up, not a request).
func New(d Deps) (*Server, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Messages == nil {
		d.Messages = i18n.Default()
	}
	if len(d.Security.FormSecret) == 0 {
		d.Security.FormSecret = []byte(rand.Text())
	}
	if d.Receipts == nil {
		d.Receipts = &receipt.Service{Store: d.Store, BaseURL: d.BaseURL, Messages: d.Messages, Logger: d.Logger}
	}
	if len(d.Receipts.Secret) == 0 {
		d.Receipts.Secret = d.Security.FormSecret
	}
	// The receipt names campaigns and targets as the pages do.
	if d.Receipts.Title == nil {
		d.Receipts.Title = d.Campaigns.Title
	}
	if d.Receipts.TargetName == nil && d.Targets != nil {
		d.Receipts.TargetName = func(id string) string {
			if t, ok := d.Targets.Current().ByID(id); ok {
				return t.Name
			}
			return id
		}
	}
	s := &Server{d: d, pages: map[string]*template.Template{}, log: d.Logger,
		inboundSlots: make(chan struct{}, inboundConcurrency)}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(d.Messages.Funcs()).Funcs(pageFuncs).ParseFS(d.Templates, "layout.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s.html: %w", name, err)
		}
		s.pages[name] = t
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(d.Security.TrustedProxies)
	e.Pre(headAsGet)
	if limit := limitRequests(d.MaxRequests); limit != nil {
		e.Pre(limit)
	}
	e.Use(middleware.Recover())
	e.Use(s.requestLog())
	if d.SeeRequest != nil {
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				d.SeeRequest(c.Request())
				return next(c)
			}
		})
	}
	e.Use(s.securityHeaders())
	e.Use(compress())
	if cors := s.cors(); cors != nil {
		e.Use(cors)
	}
	s.Echo = e
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	e := s.Echo
	csrf := s.csrf()
	// A letter is admitted to the sign path (OUTCRY_MAX_PENDING) before
	// anything else is done with it, its body included (overload.go).
	submit := chain(s.admitLetter, s.submitLimit(), middleware.BodyLimit(bodyLimit))
	e.GET("/", s.homePage, csrf)
	e.GET("/c/:slug", s.campaignPage, csrf)
	e.POST("/c/:slug", s.submitForm, slices.Concat(submit, []echo.MiddlewareFunc{csrf})...)
	e.GET("/embed.js", s.embedScript)
	e.GET("/c/:slug/embed", s.embedPage)
	e.POST("/c/:slug/embed", s.submitEmbed, slices.Concat(submit, []echo.MiddlewareFunc{s.sameOrigin})...)
	e.GET("/c/:slug/embed/thanks", s.embedThanks)
	s.linkActionRoutes("/c/:slug/confirm", s.confirmAction())
	e.GET("/c/:slug/thanks", s.thanksPage)
	e.GET("/c/:slug/preview.png", s.previewImage)
	e.GET("/c/:slug/image", s.campaignImage)
	e.GET("/c/:slug/receipt/:token", s.receiptPage)
	e.GET("/c/:slug/for/:token", s.readingPage)
	e.GET("/c/:slug/for/:token/letters.csv", s.readingCSV)
	e.POST("/c/:slug/receipt/:token/email", s.emailReceipt, middleware.BodyLimit("1K"))
	e.GET("/privacy", s.privacyPage)
	e.GET("/healthz", s.healthz)
	e.Group("/static", staticCache).StaticFS("/", s.d.Static)

	e.POST("/webhooks/sendgrid", s.sendgridWebhook)
	e.POST("/webhooks/sendgrid/inbound/:secret", s.inboundMail)
	if s.d.Followups != nil {
		s.linkActionRoutes("/c/:slug/followup", s.followupAction())
	}

	e.GET("/api/openapi.json", s.openAPI)
	api := e.Group("/api/v1")
	api.GET("/campaigns", s.apiCampaigns)
	api.GET("/campaigns/:slug", s.apiCampaign)
	api.GET("/campaigns/:slug/targets", s.apiTargets, chain(s.lookupLimit())...)
	api.POST("/campaigns/:slug/letters", s.apiSign, slices.Concat(submit, []echo.MiddlewareFunc{requireJSON})...)
}

// compress gzips answers of 1 KB and more (pages, CSS, JSON, CSV) with
// echo's middleware; images, already compressed, go as they are, and
// /metrics compresses itself (promhttp).
func compress() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, MinLength: 1024,
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return p == "/metrics" || strings.HasSuffix(p, "/image") || strings.HasSuffix(p, ".png") || strings.HasSuffix(p, ".jpg") ||
				strings.HasSuffix(p, ".webp")
		}})
}

// staticCache lets browsers and proxies keep /static/ files for a day: they
// change only with a new binary (pages, which carry form tokens, are not
// cached).
func staticCache(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		return next(c)
	}
}

// chain drops the middlewares that are off (nil).
func chain(ms ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
	out := make([]echo.MiddlewareFunc, 0, len(ms))
	for _, m := range ms {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// requestLog logs each request without query strings or bodies, which may
// carry personal data.
func (s *Server) requestLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true, LogError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelDebug
			if v.Status >= 500 && c.Get(shedKey) == nil {
				// A letter shed by the sign path's bound is no error of
				// the server: it is counted (/metrics), and logging each
				// would cost the most when the server has least to spare.
				level = slog.LevelError
			}
			s.log.Log(c.Request().Context(), level, "http", "method", v.Method, "path", v.URIPath,
				"status", v.Status, "latency", v.Latency.Round(time.Microsecond))
			return nil
		},
	})
}

// campaignFor resolves the slug in the path.
func (s *Server) campaignFor(c echo.Context) (*campaign.Campaign, error) {
	if camp, ok := s.d.Campaigns.Get(c.Param("slug")); ok {
		return camp, nil
	}
	return nil, echo.NewHTTPError(http.StatusNotFound, "There is no campaign at this address.")
}

// pageCampaign is the campaign a page outside /c/{slug} speaks for: the
// one its ?c= names, else the site itself (the organizer, no campaign).
func (s *Server) pageCampaign(c echo.Context) *campaign.Campaign {
	slug := c.Param("slug")
	if slug == "" {
		slug = c.QueryParam("c")
	}
	if camp, ok := s.d.Campaigns.Get(slug); ok {
		return camp
	}
	return s.site()
}

// site is the organizer's pages outside any campaign (the campaign list,
// the privacy notice, errors), shown with the page layout.
func (s *Server) site() *campaign.Campaign {
	c := &campaign.Campaign{Title: s.d.Organizer.Name, Organizer: s.d.Organizer}
	if listed := s.d.Campaigns.Listed(); len(listed) > 0 {
		c.Image = listed[0].Image
		c.Summary = listed[0].Summary
	}
	return c
}

func (s *Server) render(c echo.Context, status int, name string, p *page) error {
	var buf strings.Builder
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return c.HTML(status, buf.String())
}

func (s *Server) newPage(ctx context.Context, camp *campaign.Campaign) (*page, error) {
	count, err := s.d.Store.SupporterCount(ctx, camp.Slug)
	switch {
	case err == nil:
		s.counts.Store(camp.Slug, count)
	case store.Unavailable(err):
		// The database is out of reach: the page is still shown (the
		// campaign is in memory) with the last count, so that a supporter
		// can read it and a form sent back keeps its letter.
		s.log.Warn("campaign page: supporter count unavailable, showing the last one", "campaign", camp.Slug, "err", err)
		last, _ := s.counts.Load(camp.Slug)
		count, _ = last.(int)
	default:
		return nil, err
	}
	return &page{
		DryRun:        s.d.DryRun,
		Campaign:      camp,
		Count:         count,
		Targets:       letter.TargetsOf(camp, s.d.Targets.Current()),
		State:         camp.State(s.now()),
		BaseURL:       s.d.BaseURL,
		RetentionDays: s.d.RetentionDays,
		ConfirmOn:     s.d.Confirm != nil,
		Messages:      s.d.Messages,
		Similar:       s.d.Letters.Threshold(),
		Reference:     camp.Letter.Body,
	}, nil
}

func (s *Server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.d.Store.Ping(ctx); err != nil {
		s.log.Error("healthz: database does not answer", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	if err := s.writable(ctx); err != nil {
		s.log.Error("healthz: database does not accept writes", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database does not accept writes"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// How often /healthz writes to check the database (answers are cached in
// between), and how long a failed write elsewhere keeps it unhealthy.
const (
	healthProbeEvery  = 5 * time.Second
	healthFailureHold = 30 * time.Second
)

// writable reports whether the database accepts writes: no write failed
// for a storage reason (lock, full disk, I/O) in the last healthFailureHold,
// and a small write probe, made at most every healthProbeEvery, succeeds.
func (s *Server) writable(ctx context.Context) error {
	if err := s.d.Store.WriteFailedWithin(healthFailureHold); err != nil {
		return err
	}
	now := s.now()
	s.probe.mu.Lock()
	defer s.probe.mu.Unlock()
	if !s.probe.at.IsZero() && now.Sub(s.probe.at) < healthProbeEvery {
		return s.probe.err
	}
	s.probe.err = s.d.Store.ProbeWrite(ctx)
	s.probe.at = s.now()
	return s.probe.err
}

// handleError maps errors to status codes: JSON for the API, a page otherwise.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. Please try again in a minute."
	var he *echo.HTTPError
	if store.Unavailable(err) {
		status, msg = http.StatusServiceUnavailable, "The letters database is not answering: nothing was stored. Please try again in a minute."
		c.Response().Header().Set("Retry-After", "60")
	} else if isOverloaded(err) {
		status, msg = http.StatusServiceUnavailable, overloadedAPI
		c.Response().Header().Set("Retry-After", retryAfter())
	} else if errors.As(err, &he) {
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "path", c.Request().URL.Path, "err", err)
	}
	if p := c.Request().URL.Path; strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhooks/") {
		c.JSON(status, map[string]string{"error": msg})
		return
	}
	// Pages speak the supporter's language: heading and text come from the
	// message file (error.<status>.*), the error's own text is for the API.
	m, key := s.d.Messages, "error."+strconv.Itoa(status)
	if !m.Has(key + ".heading") {
		key = "error.other"
	}
	p := &page{Campaign: s.pageCampaign(c), BaseURL: s.d.BaseURL, Status: status, DryRun: s.d.DryRun,
		Heading: m.T(key + ".heading"), Message: m.T(key + ".message")}
	if rerr := s.render(c, status, "error", p); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		c.String(status, msg)
	}
}

// previewWords are the words of the link-preview image: the image caption
// (the campaign's slogan) over the title, or the title over the organizer.
func previewWords(c *campaign.Campaign) (headline, byline string) {
	if c.Image.Caption != "" {
		return c.Image.Caption, c.Title
	}
	return c.Title, c.Organizer.Name
}

// previewImage is GET /c/{slug}/preview.png, the og:image of the pages.
func (s *Server) previewImage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	h, b := previewWords(camp)
	// The campaign's own image, when it has one, is the background.
	etag := ""
	if strings.HasPrefix(camp.Image.Src, camp.Path()+"/image") {
		if _, v, ok := strings.Cut(camp.Image.Src, "?v="); ok {
			etag = v
		}
	}
	key := [3]string{h, b, etag}
	s.previewMu.Lock()
	png, ok := s.previews[key]
	s.previewMu.Unlock()
	if !ok {
		var photo image.Image
		if etag != "" {
			img, found, err := s.d.Campaigns.Image(c.Request().Context(), camp.Slug)
			if err != nil {
				return err
			}
			if found {
				if photo, _, err = image.Decode(bytes.NewReader(img.Data)); err != nil {
					return fmt.Errorf("web: decode the image of %s: %w", camp.Slug, err)
				}
			}
		}
		if png, err = preview.PNGOver(photo, h, b); err != nil {
			return err
		}
		s.previewMu.Lock()
		if s.previews == nil || len(s.previews) > 100 {
			s.previews = map[[3]string][]byte{}
		}
		s.previews[key] = png
		s.previewMu.Unlock()
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "image/png", png)
}

// campaignImage is GET /c/{slug}/image: the campaign's uploaded image,
// cached for a year (its address changes with each upload: ?v=) and named
// by an ETag.
func (s *Server) campaignImage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	img, ok, err := s.d.Campaigns.Image(c.Request().Context(), camp.Slug)
	if err != nil {
		return err
	}
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	etag := `"` + img.ETag + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, img.ContentType, img.Data)
}

// pageFuncs are the pages' functions beside the catalog's: the send log's
// status names, so a page tests a status without spelling it.
var pageFuncs = template.FuncMap{"status": func() sendlog.Names { return sendlog.Name }}
