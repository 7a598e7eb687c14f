package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/unicode/norm"

	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/target"
)

// Target ids: suggested from the name when the organizer leaves the field
// empty, and never given to a second target (the send log and the
// per-target state name a target by id).

// IDTakenError is an id that a target used before.
type IDTakenError struct{ ID, What string }

func (e *IDTakenError) Error() string {
	return fmt.Sprintf("The id %q belonged to %s: an id is never reused, so that the send log stays right. Choose another id, or leave it empty to make one from the name.", e.ID, e.What)
}

// idFromName makes an id from a name: "Ted Sarandos" gives "ted-sarandos",
// "Zoë Müller-Lüdenscheidt" gives "zoe-muller-ludenscheidt".
func idFromName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r): // an accent, split off by NFD
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	id := b.String()
	if len(id) > 60 {
		id = strings.TrimRight(id[:60], "-")
	}
	return id
}

// idFree reports whether id is neither in the file nor used before.
func (s *service) idFree(ctx context.Context, id string) (bool, string, error) {
	if _, ok := s.d.Targets.Current().ByID(id); ok {
		return false, "a target in the file", nil
	}
	used, what, err := s.d.Store.TargetIDUsed(ctx, id)
	return !used, what, err
}

// addTarget adds t to the file. An empty id is made from the name (with
// -2, -3… when that one is taken); an id used before is refused.
func (s *service) addTarget(ctx context.Context, t target.Target) (target.Target, error) {
	if t.ID == "" {
		base := idFromName(t.Name)
		if base == "" {
			base = "target"
		}
		for i := 1; ; i++ {
			id := base
			if i > 1 {
				id = fmt.Sprintf("%s-%d", base, i)
			}
			free, _, err := s.idFree(ctx, id)
			if err != nil {
				return t, err
			}
			if free {
				t.ID = id
				break
			}
		}
	} else if target.ValidID(t.ID) {
		used, what, err := s.d.Store.TargetIDUsed(ctx, t.ID)
		if err != nil {
			return t, err
		}
		if used {
			return t, &IDTakenError{ID: t.ID, What: what}
		}
	}
	return t, s.saveTarget("", t)
}

// removeData is the confirmation page of a removal.
type removeData struct {
	T      target.Target
	Queued int
}

// removeTarget removes a target from the file. The first post (without
// confirm=yes) shows what removing means and asks again: it works without
// JavaScript. The id is recorded so that it is never reused.
func (c *Console) removeTarget(ctx echo.Context, id string) error {
	rc := ctx.Request().Context()
	t, ok := c.d.Targets.Current().ByID(id)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no target with this id in the targets file.")
	}
	if ctx.FormValue("confirm") != "yes" {
		counts, err := c.d.Store.TargetStatusCounts(rc)
		if err != nil {
			return err
		}
		return c.render(ctx, http.StatusOK, "remove", c.newView(ctx, "Remove "+t.Name+"?", "targets",
			removeData{T: t, Queued: counts[id][string(sendlog.Queued)] + counts[id][string(sendlog.Sending)]}))
	}
	if err := c.svc.removeTarget(rc, id, t.Name); err != nil {
		return err
	}
	c.log.Info("admin: target removed", "target", id)
	return c.redirect(ctx, "/admin/targets", "removed")
}
