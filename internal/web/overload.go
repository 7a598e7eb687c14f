package web

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/letter"
)

// Overload (issue 29). Past capacity, a quick and honest refusal beats a
// late answer: a browser that gives up shows an error for a letter that was
// in fact kept, and a server that keeps every request runs out of memory.
// Two bounds, both checked before a request's body is read:
//
//   - the sign path (admitLetter): at most OUTCRY_MAX_PENDING letters are
//     being checked or waiting for their group commit; one more gets 503
//     with Retry-After at once, nothing stored. A 202 is only ever given
//     after the letter's transaction has committed.
//   - every request (limitRequests): at most Deps.MaxRequests in the
//     handlers at once, so that pages and letters together cannot hold
//     more memory than that many requests do.

// retryAfter is a few seconds, spread so that the refused retry apart.
func retryAfter() string { return strconv.Itoa(2 + rand.IntN(4)) }

// admitLetter takes a place in the sign path for the letter, or refuses it:
// the form comes back as typed with the message form.overloaded, the API gets a JSON
// error; both 503 with Retry-After. Refused letters are counted (the gate's
// Shed: /metrics and the console).
func (s *Server) admitLetter(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		release, err := s.d.Letters.Admit()
		if err != nil {
			return s.shed(c)
		}
		defer release()
		return next(c)
	}
}

// shedKey marks a request whose letter was shed, for the request log.
const shedKey = "outcry.shed"

// shed answers a letter refused because the sign path is full.
func (s *Server) shed(c echo.Context) error {
	c.Set(shedKey, true)
	c.Response().Header().Set("Retry-After", retryAfter())
	if camp, sub, ok := s.typedForm(c); ok {
		return s.reRender(c, camp, http.StatusServiceUnavailable, sub, nil, s.d.Messages.T("form.overloaded"))
	}
	return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": overloadedAPI, "status": "overloaded"})
}

// overloadedAPI is the API's error for a shed letter.
const overloadedAPI = "Too many letters are arriving at once: nothing was stored. Please send it again in a few seconds (see Retry-After)."

// limitRequests refuses a request at once (503, Retry-After) when max
// requests are already being handled; max < 1: no bound.
func limitRequests(max int) echo.MiddlewareFunc {
	if max < 1 {
		return nil
	}
	slots := make(chan struct{}, max)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			select {
			case slots <- struct{}{}:
			default:
				c.Response().Header().Set("Retry-After", retryAfter())
				return c.String(http.StatusServiceUnavailable, "This site is very busy just now: nothing was done. Please try again in a few seconds.\n")
			}
			defer func() { <-slots }()
			return next(c)
		}
	}
}

// isOverloaded reports a letter refused by the sign path's bound.
func isOverloaded(err error) bool { return errors.Is(err, letter.ErrOverloaded) }
