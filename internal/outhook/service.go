package outhook

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/store"
)

// Endpoints is where endpoints are kept (the store).
type Endpoints interface {
	CreateWebhookEndpoint(ctx context.Context, e store.WebhookEndpoint) (store.WebhookEndpoint, error)
	WebhookEndpoints(ctx context.Context) ([]store.WebhookEndpoint, error)
	WebhookEndpoint(ctx context.Context, id int64) (store.WebhookEndpoint, bool, error)
	UpdateWebhookEndpoint(ctx context.Context, e store.WebhookEndpoint, enabled bool) (bool, error)
	DeleteWebhookEndpoint(ctx context.Context, id int64) (bool, error)
	QueueWebhookTest(ctx context.Context, endpointID int64, data any) error
	WebhookAttempts(ctx context.Context, endpointID int64, limit int) ([]store.WebhookAttemptRow, error)
}

// Service is how the console and /admin/api/webhooks manage endpoints.
type Service struct {
	Store    Endpoints
	Insecure bool                   // OUTCRY_WEBHOOKS_INSECURE=on
	Campaign func(slug string) bool // whether a campaign exists
	Resolver Resolver               // nil: net.DefaultResolver
	Notify   func()                 // wakes the sender (a test event); nil: none
	Now      func() time.Time       // nil: time.Now
}

// Input is an endpoint as the organizer gives it; a nil field is left as
// it is (PATCH) or takes its default (POST).
type Input struct {
	URL          *string   `json:"url"`
	Events       *[]string `json:"events"`
	Campaign     *string   `json:"campaign"`
	PersonalData *bool     `json:"personal_data"`
	Description  *string   `json:"description"`
	Enabled      *bool     `json:"enabled"`
}

// FieldErrors names what is wrong with an Input, by JSON field (422).
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	var parts []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range fe {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, k+": "+fe[k])
	}
	return "invalid webhook endpoint: " + strings.Join(parts, "; ")
}

// ErrNotFound is an endpoint that does not exist.
var ErrNotFound = errors.New("outhook: no such webhook endpoint")

// Create validates in and stores a new endpoint with a new secret; the
// secret is in the answer, and nowhere else after.
func (s *Service) Create(ctx context.Context, in Input) (store.WebhookEndpoint, error) {
	e := store.WebhookEndpoint{}
	if in.URL == nil {
		in.URL = new(string)
	}
	if in.Events == nil {
		in.Events = &[]string{}
	}
	if fe := s.apply(ctx, &e, in); len(fe) > 0 {
		return e, fe
	}
	e.Secret = NewSecret()
	return s.Store.CreateWebhookEndpoint(ctx, e)
}

// Update changes the fields in gives.
func (s *Service) Update(ctx context.Context, id int64, in Input) (store.WebhookEndpoint, error) {
	e, ok, err := s.Store.WebhookEndpoint(ctx, id)
	if err != nil {
		return e, err
	}
	if !ok {
		return e, ErrNotFound
	}
	if fe := s.apply(ctx, &e, in); len(fe) > 0 {
		return e, fe
	}
	enabled := e.DisabledAt == nil
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	if ok, err = s.Store.UpdateWebhookEndpoint(ctx, e, enabled); err != nil {
		return e, err
	} else if !ok {
		return e, ErrNotFound
	}
	e, _, err = s.Store.WebhookEndpoint(ctx, id)
	return e, err
}

// Delete removes an endpoint and its deliveries.
func (s *Service) Delete(ctx context.Context, id int64) error {
	ok, err := s.Store.DeleteWebhookEndpoint(ctx, id)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return err
}

// List returns every endpoint (their secrets are not shown again).
func (s *Service) List(ctx context.Context) ([]store.WebhookEndpoint, error) {
	return s.Store.WebhookEndpoints(ctx)
}

// Get returns one endpoint.
func (s *Service) Get(ctx context.Context, id int64) (store.WebhookEndpoint, error) {
	e, ok, err := s.Store.WebhookEndpoint(ctx, id)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return e, err
}

// Attempts are an endpoint's latest attempts, newest first.
func (s *Service) Attempts(ctx context.Context, id int64, limit int) ([]store.WebhookAttemptRow, error) {
	return s.Store.WebhookAttempts(ctx, id, limit)
}

// SendTest queues a webhook.test delivery to one endpoint.
func (s *Service) SendTest(ctx context.Context, id int64) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := s.Store.QueueWebhookTest(ctx, id, map[string]any{"endpoint": id, "message": "a test event sent from outcry's console", "sent_at": now().UTC().Format(time.RFC3339)}); err != nil {
		return err
	}
	if s.Notify != nil {
		s.Notify()
	}
	return nil
}

// apply checks in and copies its fields onto e.
func (s *Service) apply(ctx context.Context, e *store.WebhookEndpoint, in Input) FieldErrors {
	fe := FieldErrors{}
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if msg := s.checkURL(ctx, u); msg != "" {
			fe["url"] = msg
		}
		e.URL = u
	}
	if in.Events != nil {
		var ts []hookevent.Type
		for _, v := range *in.Events {
			t := hookevent.Type(v)
			if !hookevent.Valid(t) {
				fe["events"] = "unknown event type " + quote(v) + "; known: " + known()
				break
			}
			if !slices.Contains(ts, t) {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 && fe["events"] == "" {
			fe["events"] = "choose at least one event type: " + known()
		}
		e.Events = ts
	}
	if in.Campaign != nil {
		c := strings.TrimSpace(*in.Campaign)
		if c != "" && (s.Campaign == nil || !s.Campaign(c)) {
			fe["campaign"] = "there is no campaign " + quote(c)
		}
		e.Campaign = c
	}
	if in.PersonalData != nil {
		e.PersonalData = *in.PersonalData
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 200 {
			fe["description"] = "at most 200 characters"
		}
		e.Description = d
	}
	return fe
}

// checkURL returns what is wrong with a receiver's address, or "".
func (s *Service) checkURL(ctx context.Context, raw string) string {
	if raw == "" {
		return "give the receiver's address, https://…"
	}
	if len(raw) > 2000 {
		return "at most 2000 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "not an absolute URL (https://host/path)"
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.Insecure:
	case u.Scheme == "http":
		return "must be https (plain http only with OUTCRY_WEBHOOKS_INSECURE=on)"
	default:
		return "must be https"
	}
	if u.Fragment != "" {
		return "must not have a #fragment"
	}
	if s.Insecure {
		return ""
	}
	r := s.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := checkHost(ctx, r, u.Hostname()); err != nil {
		return err.Error()
	}
	return ""
}

func known() string {
	var parts []string
	for _, t := range hookevent.All {
		parts = append(parts, string(t))
	}
	return strings.Join(parts, ", ")
}

func quote(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return `"` + s + `"`
}
