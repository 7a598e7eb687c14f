package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/webhook"
)

// WebhookEvents records the provider's delivery events on the messages they are about.
type WebhookEvents interface {
	ApplyEvents(ctx context.Context, events []webhook.Event) (store.EventResult, error)
}

// webhookMaxAge is how old a signed webhook post may be.
const webhookMaxAge = 10 * time.Minute

// webhookRetryAfter is the Retry-After of a 503 (seconds).
const webhookRetryAfter = 30

// sendgridWebhook is POST /webhooks/sendgrid: SendGrid's Event Webhook.
//
// With SENDGRID_WEBHOOK_PUBLIC_KEY set, a post must carry a valid signature
// over its timestamp and raw body: missing → 401 (before the body is read),
// bad or stale → 403, and nothing changes. Without a key the route is off
// (404) unless OUTCRY_WEBHOOK_UNSIGNED opts into unsigned posts. Bodies are
// bounded (413), must arrive within 5 s (408), one at a time per client, and
// the bytes being read at once are bounded (503; webhook_read.go).
func (s *Server) sendgridWebhook(c echo.Context) error {
	signed := s.d.WebhookPublicKey != ""
	if !signed && !s.d.WebhookUnsigned {
		return echo.NewHTTPError(http.StatusNotFound, "the event webhook is off: set SENDGRID_WEBHOOK_PUBLIC_KEY (or OUTCRY_WEBHOOK_UNSIGNED=1)")
	}
	req := c.Request()
	h := req.Header
	sig, ts := h.Get(webhook.SignatureHeader), h.Get(webhook.TimestampHeader)
	if signed && (sig == "" || ts == "") {
		return echo.NewHTTPError(http.StatusUnauthorized, "missing webhook signature")
	}
	if req.ContentLength > webhook.MaxBodyBytes {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "webhook body too large")
	}
	body, err := s.webhookReads.read(c.RealIP(), c.Response().Writer, req.Body)
	switch {
	case errors.Is(err, webhook.ErrTooLarge):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "webhook body too large")
	case errors.Is(err, errWebhookBusy), errors.Is(err, errWebhookSameHost):
		c.Response().Header().Set("Retry-After", strconv.Itoa(webhookRetryAfter))
		return echo.NewHTTPError(http.StatusServiceUnavailable, "busy: "+err.Error())
	case errors.Is(err, errWebhookSlow):
		c.Response().Header().Set("Connection", "close")
		return echo.NewHTTPError(http.StatusRequestTimeout, "the webhook body did not arrive within 5 s")
	case err != nil:
		return echo.NewHTTPError(http.StatusBadRequest, "cannot read webhook body")
	}
	if signed {
		err := webhook.Verify(s.d.WebhookPublicKey, sig, ts, body, time.Now(), webhookMaxAge)
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
	res, err := s.d.Store.ApplyEvents(req.Context(), events)
	if err != nil {
		return err
	}
	s.log.Info("webhook events", "stored", res.Stored, "duplicates", res.Duplicates, "unmatched", res.Unmatched, "moved", res.Moved)
	return c.JSON(http.StatusOK, map[string]int{"stored": res.Stored, "duplicates": res.Duplicates})
}
