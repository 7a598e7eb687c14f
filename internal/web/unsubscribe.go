package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/update"
)

// Unsubscriber is the one-click unsubscribe of the organizer's updates
// (issue 26, internal/update).
type Unsubscriber interface {
	ParseToken(tok string) (int64, error)
	Unsubscribe(ctx context.Context, slug, tok string) (time.Time, error)
}

// unsubscribeView is what the unsubscribe page shows: the button (GET),
// or that it is done (POST), or that the link came in a test email.
type unsubscribeView struct {
	Button     *actionButton
	At         time.Time
	Test       bool
	ReceiptURL string
}

// unsubscribeAction is the link in every update and in its
// List-Unsubscribe header, /c/{slug}/unsubscribe?t=…: its GET (and HEAD,
// as mail scanners send) only shows a page with a button; the button's
// POST, or a mail provider's RFC 8058 one-click POST (body
// List-Unsubscribe=One-Click, no cookie, no stamp), unsubscribes at once.
func (s *Server) unsubscribeAction() linkAction {
	return linkAction{
		Name:       "unsubscribe",
		TokenField: "t",
		OneClick:   true,
		Show: func(c echo.Context, tok string, b actionButton) error {
			return s.unsubscribePage(c, tok, &b, time.Time{})
		},
		Act: func(c echo.Context, tok string) error {
			camp, err := s.campaignFor(c)
			if err != nil {
				return err
			}
			at, err := s.d.Updates.Unsubscribe(c.Request().Context(), camp.Slug, tok)
			switch {
			case errors.Is(err, update.ErrTestLink):
				return s.unsubscribePage(c, tok, nil, time.Time{})
			case errors.Is(err, update.ErrBadLink):
				return echo.NewHTTPError(http.StatusNotFound, "This link is not valid, or its letter is no longer held here.")
			case err != nil:
				return err
			}
			return s.unsubscribePage(c, tok, nil, at)
		},
	}
}

func (s *Server) unsubscribePage(c echo.Context, tok string, b *actionButton, at time.Time) error {
	camp, err := s.campaignFor(c)
	if err != nil {
		return err
	}
	privatePage(c)
	v := &unsubscribeView{Button: b, At: at}
	sid, err := s.d.Updates.ParseToken(tok)
	switch {
	case errors.Is(err, update.ErrTestLink):
		v.Test, v.Button = true, nil
	case err != nil:
		return echo.NewHTTPError(http.StatusNotFound, "This link is not valid.")
	default:
		v.ReceiptURL = s.d.Receipts.Path(camp.Slug, sid)
	}
	p, err := s.newPage(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	p.Unsubscribe = v
	return s.render(c, http.StatusOK, "unsubscribe", p)
}
