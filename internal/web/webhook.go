package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/webhook"
)

// webhookMaxAge is how old a signed webhook post may be.
const webhookMaxAge = 10 * time.Minute

// sendgridWebhook is POST /webhooks/sendgrid: SendGrid's Event Webhook.
// With SENDGRID_WEBHOOK_PUBLIC_KEY set, a post must carry a valid signature
// over its timestamp and raw body: missing → 401, bad or stale → 403, and
// nothing changes.
func (s *Server) sendgridWebhook(c echo.Context) error {
	body, err := webhook.ReadBody(c.Request().Body)
	if errors.Is(err, webhook.ErrTooLarge) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "webhook body too large")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "cannot read webhook body")
	}
	if s.d.WebhookPublicKey != "" {
		h := c.Request().Header
		err := webhook.Verify(s.d.WebhookPublicKey, h.Get(webhook.SignatureHeader), h.Get(webhook.TimestampHeader), body, time.Now(), webhookMaxAge)
		switch {
		case errors.Is(err, webhook.ErrMissingSignature):
			return echo.NewHTTPError(http.StatusUnauthorized, "missing webhook signature")
		case err != nil:
			s.log.Warn("webhook refused", "err", err)
			return echo.NewHTTPError(http.StatusForbidden, "invalid or stale webhook signature")
		}
	}
	events, err := webhook.Parse(body)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "malformed event webhook body: "+err.Error())
	}
	res, err := s.d.Store.ApplyEvents(c.Request().Context(), events)
	if err != nil {
		return err
	}
	s.log.Info("webhook events", "stored", res.Stored, "duplicates", res.Duplicates, "unmatched", res.Unmatched, "moved", res.Moved)
	return c.JSON(http.StatusOK, map[string]int{"stored": res.Stored, "duplicates": res.Duplicates})
}
