package web

import (
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/openapi"
)

// The embeddable form (issue 23, docs/embedding.md): /embed.js inserts an
// iframe of /c/{slug}/embed, the form and the thank-you step without the
// story. Only the sites in OUTCRY_EMBED_ORIGINS may frame it
// (securityHeaders). Its protection against forged posts does not use a
// cookie, which a browser that blocks third-party cookies would not keep
// inside the iframe: the post must come from a page of this site (Origin
// and Sec-Fetch-Site, sameOrigin) and carry the form's signed stamp.

// isEmbedRoute reports whether a route is one of the embed's pages, which
// the allowed sites may frame.
func isEmbedRoute(path string) bool {
	return path == "/c/:slug/embed" || path == "/c/:slug/embed/thanks"
}

// embedScript is GET /embed.js.
func (s *Server) embedScript(c echo.Context) error {
	data, err := s.staticFile("embed.js")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", data)
}

// parentOrigin is the origin of the page framing the embed, as embed.js
// says (?origin=), when it is one of OUTCRY_EMBED_ORIGINS; "" otherwise,
// and then the embed sends its height to nobody.
func (s *Server) parentOrigin(c echo.Context) string {
	o := strings.ToLower(strings.TrimRight(c.QueryParam("origin"), "/"))
	if o != "" && slices.Contains(s.d.Security.EmbedOrigins, o) {
		return o
	}
	return ""
}

// embedView fills what the embed's template needs.
func (s *Server) embedView(c echo.Context, p *page) {
	p.Embed = true
	p.ParentOrigin = s.parentOrigin(c)
	p.FormAction = p.Campaign.Path() + "/embed"
	if p.ParentOrigin != "" {
		p.FormAction = addQuery(p.FormAction, "origin", p.ParentOrigin)
	}
}

// embedPage is GET /c/{slug}/embed: the form, prefilled as the campaign
// page is (?first_name=…&source=…).
func (s *Server) embedPage(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	status := s.prepareForm(c, p, camp)
	s.arm(c, p)
	s.embedView(c, p)
	return s.render(c, status, "embed", p)
}

// submitEmbed is POST /c/{slug}/embed.
func (s *Server) submitEmbed(c echo.Context) error {
	thanks := "/embed/thanks"
	if o := s.parentOrigin(c); o != "" {
		thanks = addQuery(thanks, "origin", o)
	}
	return s.takeForm(c, thanks)
}

// embedThanks is GET /c/{slug}/embed/thanks: the thank-you step.
func (s *Server) embedThanks(c echo.Context) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	p.Wrote, p.ThanksStep = true, true
	if tok := c.QueryParam("r"); tok != "" && s.d.Receipts.Valid(tok) {
		p.ReceiptURL = s.d.BaseURL + camp.Path() + "/receipt/" + tok
		privatePage(c)
	}
	s.embedView(c, p)
	return s.render(c, http.StatusOK, "embed", p)
}

// sameOrigin refuses a post that a browser says came from another site:
// the embed's guard against forged posts, which needs no cookie. A post
// without Origin or Sec-Fetch-Site (not from a browser) still needs the
// form's signed stamp, as every form post does.
func (s *Server) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			return echo.NewHTTPError(http.StatusForbidden, "This form can only be sent from its own page.")
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || !strings.EqualFold(u.Host, r.Host) {
				return echo.NewHTTPError(http.StatusForbidden, "This form can only be sent from its own page.")
			}
		}
		return next(c)
	}
}

// openAPI is GET /api/openapi.json: the contract of /api/v1 and /admin/api.
func (s *Server) openAPI(c echo.Context) error {
	doc, err := openapi.JSON()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", doc)
}

// addQuery adds k=v to a path's query.
func addQuery(path, k, v string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

// staticFile reads a file of the static folder.
func (s *Server) staticFile(name string) ([]byte, error) {
	return fs.ReadFile(s.d.Static, name)
}
