package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/outhook"
	"github.com/outcry/outcry/internal/store"
)

// apiWebhook is an endpoint in /admin/api/webhooks. Secret is there only in
// the answer to POST, the one time it is shown.
type apiWebhook struct {
	ID             int64    `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	Campaign       *string  `json:"campaign"`
	PersonalData   bool     `json:"personal_data"`
	Description    string   `json:"description"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	FailingSince   *string  `json:"failing_since"`
	CreatedAt      string   `json:"created_at"`
	Secret         string   `json:"secret,omitempty"`
}

func toAPIWebhook(e store.WebhookEndpoint) apiWebhook {
	w := apiWebhook{ID: e.ID, URL: e.URL, Events: []string{}, PersonalData: e.PersonalData, Description: e.Description,
		Enabled: e.DisabledAt == nil, DisabledReason: e.DisabledWhy, CreatedAt: rfc3339(e.CreatedAt)}
	for _, t := range e.Events {
		w.Events = append(w.Events, string(t))
	}
	if e.Campaign != "" {
		w.Campaign = &e.Campaign
	}
	if e.FailingSince != nil {
		s := rfc3339(*e.FailingSince)
		w.FailingSince = &s
	}
	return w
}

// apiWebhooks is GET /admin/api/webhooks.
func (c *Console) apiWebhooks(ctx echo.Context) error {
	es, err := c.d.Webhooks.List(ctx.Request().Context())
	if err != nil {
		return err
	}
	out := make([]apiWebhook, len(es))
	for i, e := range es {
		out[i] = toAPIWebhook(e)
	}
	return ctx.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

// readWebhookInput decodes a JSON body; ok is false when the answer (400)
// has been written.
func readWebhookInput(ctx echo.Context) (in outhook.Input, bad error) {
	dec := json.NewDecoder(http.MaxBytesReader(ctx.Response(), ctx.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, ctx.JSON(http.StatusBadRequest, map[string]string{"error": "the body must be a JSON object with url, events, campaign, personal_data, description, enabled: " + err.Error()})
	}
	return in, nil
}

// apiCreateWebhook is POST /admin/api/webhooks: 201 with the endpoint and
// its secret (shown this once), 422 naming the fields at fault.
func (c *Console) apiCreateWebhook(ctx echo.Context) error {
	in, err := readWebhookInput(ctx)
	if err != nil || ctx.Response().Committed {
		return err
	}
	e, err := c.d.Webhooks.Create(ctx.Request().Context(), in)
	var fe outhook.FieldErrors
	if errors.As(err, &fe) {
		return ctx.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": fe})
	}
	if err != nil {
		return err
	}
	c.log.Info("admin: webhook endpoint created", "endpoint", e.ID, "personal_data", e.PersonalData)
	w := toAPIWebhook(e)
	w.Secret = e.Secret
	return ctx.JSON(http.StatusCreated, w)
}

// webhookID reads :id; ok false: not a number (answered 404).
func webhookID(ctx echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

// apiPatchWebhook is PATCH /admin/api/webhooks/{id}.
func (c *Console) apiPatchWebhook(ctx echo.Context) error {
	id, ok := webhookID(ctx)
	if !ok {
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "no such webhook endpoint"})
	}
	in, err := readWebhookInput(ctx)
	if err != nil || ctx.Response().Committed {
		return err
	}
	e, err := c.d.Webhooks.Update(ctx.Request().Context(), id, in)
	var fe outhook.FieldErrors
	switch {
	case errors.As(err, &fe):
		return ctx.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": fe})
	case errors.Is(err, outhook.ErrNotFound):
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "no such webhook endpoint"})
	case err != nil:
		return err
	}
	return ctx.JSON(http.StatusOK, toAPIWebhook(e))
}

// apiDeleteWebhook is DELETE /admin/api/webhooks/{id}: 204.
func (c *Console) apiDeleteWebhook(ctx echo.Context) error {
	id, ok := webhookID(ctx)
	if !ok {
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "no such webhook endpoint"})
	}
	err := c.d.Webhooks.Delete(ctx.Request().Context(), id)
	if errors.Is(err, outhook.ErrNotFound) {
		return ctx.JSON(http.StatusNotFound, map[string]string{"error": "no such webhook endpoint"})
	}
	if err != nil {
		return err
	}
	c.log.Info("admin: webhook endpoint deleted", "endpoint", id)
	return ctx.NoContent(http.StatusNoContent)
}
