package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/outcry/outcry/internal/token"
)

// linkAction is the one pattern for a link in an email that changes
// something: the confirmation link today; follow-up answers and one-click
// unsubscribe are built the same way. Mail gateways (Microsoft Safe Links,
// Proofpoint, Mimecast) and link scanners open every link of a message on
// arrival, with GET or HEAD and without the reader's cookies, so a link that
// acts on GET acts for whoever the gateway protects.
//
//   - GET (and HEAD, which is answered as a GET with no body) only checks the
//     link's token without changing anything and shows a page with a button
//     (Show). Opening the link any number of times changes nothing.
//   - POST acts (Act), and only with the action stamp that the button's form
//     carried: "<render unix ms>.<link hash>" signed with the form secret
//     under a purpose naming the action (token.Sign). The stamp is bound to
//     this link's token and this action, so a stamp taken from one link does
//     nothing for another; it expires after linkActionMaxAge. It needs no
//     cookie: the reader's mail app may open the link in a browser context
//     that has none, as third-party and scanner contexts do. A post that says
//     it is cross-site (Sec-Fetch-Site: cross-site) is refused too.
//   - A POST without a stamp, or with an expired one, is shown the button
//     page again (nothing is lost: the link still works); a forged stamp gets 403.
//   - OneClick (RFC 8058, for List-Unsubscribe-Post): a POST whose body is
//     exactly "List-Unsubscribe=One-Click" acts without a stamp, as mail
//     providers send it; the token in the URL is then the only authority,
//     as RFC 8058 intends. Its GET still only shows the button.
//
// Register both methods with (*Server).linkActionRoutes; Show receives the
// button to put on its page (the "action-button" template renders it).
type linkAction struct {
	// Name is the action ("confirm", "unsubscribe"…), part of the stamp's purpose.
	Name string
	// TokenField is the query (and form) field of the link's token.
	TokenField string
	// OneClick accepts RFC 8058 one-click posts (unsubscribe only).
	OneClick bool
	// Show checks the token without changing anything and renders the page
	// with the button (or the page saying why the link is not valid).
	Show func(c echo.Context, tok string, b actionButton) error
	// Act does what the link is for; it is called only for a POST that passed.
	Act func(c echo.Context, tok string) error
}

// actionButton is the form of a link action's page: it posts the token and
// the stamp back to the link's own path.
type actionButton struct {
	Action     string // the path the form posts to
	TokenField string
	Token      string
	Stamp      string
}

// linkActionMaxAge is how long a button page's stamp is good for.
const linkActionMaxAge = 24 * time.Hour

func (a linkAction) purpose() string { return "outcry link action " + a.Name }

// linkHash ties a stamp to one link without repeating its token.
func linkHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// linkActionRoutes registers GET (page with a button) and POST (the action)
// of a link action on path.
func (s *Server) linkActionRoutes(path string, a linkAction) {
	s.Echo.GET(path, func(c echo.Context) error {
		tok := c.QueryParam(a.TokenField)
		return a.Show(c, tok, s.actionButton(c, a, tok))
	})
	s.Echo.POST(path, func(c echo.Context) error {
		tok := c.FormValue(a.TokenField)
		if a.OneClick && c.FormValue("List-Unsubscribe") == "One-Click" {
			return a.Act(c, tok)
		}
		if c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
			return echo.NewHTTPError(http.StatusForbidden, "This button works only from its own page. Please open the link from the email again.")
		}
		stamp := c.FormValue("stamp")
		payload, ok := token.Verify(s.d.Security.FormSecret, a.purpose(), stamp)
		if stamp == "" {
			return a.Show(c, tok, s.actionButton(c, a, tok))
		}
		ms, hash, found := strings.Cut(payload, ".")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || !found || err != nil || hash != linkHash(tok) {
			s.log.Info("link action: forged stamp", "action", a.Name)
			return echo.NewHTTPError(http.StatusForbidden, "This page was not made for this link. Please open the link from the email again.")
		}
		if age := s.now().Sub(time.UnixMilli(n)); age > linkActionMaxAge || age < -time.Minute {
			return a.Show(c, tok, s.actionButton(c, a, tok))
		}
		return a.Act(c, tok)
	}, middleware.BodyLimit("4K"))
}

func (s *Server) actionButton(c echo.Context, a linkAction, tok string) actionButton {
	stamp := token.Sign(s.d.Security.FormSecret, a.purpose(), strconv.FormatInt(s.now().UnixMilli(), 10)+"."+linkHash(tok))
	return actionButton{Action: c.Request().URL.Path, TokenField: a.TokenField, Token: tok, Stamp: stamp}
}
