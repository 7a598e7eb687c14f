package outhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outcry/outcry/internal/store"
)

// Schedule is the Standard Webhooks specification's retry schedule: the
// wait before each attempt, the first immediately. A delivery whose last
// attempt fails is marked failed.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

const (
	// Timeout bounds one attempt, from dialing to the end of the answer.
	Timeout = 10 * time.Second
	// MaxAnswer is how much of an answer's body is read.
	MaxAnswer = 64 << 10
	// DisableAfter: an endpoint every attempt to which has failed for
	// this long is disabled.
	DisableAfter = 5 * 24 * time.Hour
)

// Queue is where deliveries come from and their attempts go (the store).
type Queue interface {
	ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]store.WebhookDelivery, error)
	FinishWebhookAttempt(ctx context.Context, a store.WebhookAttempt) (disabled bool, err error)
}

// Options tune a Sender; zero values take the defaults.
type Options struct {
	// Insecure (OUTCRY_WEBHOOKS_INSECURE=on) lets deliveries go to any
	// address, loopback and private ones included.
	Insecure bool
	// Leading reports whether this process is the elected sender (the
	// mail sender's lease); nil: always.
	Leading  func() bool
	Workers  int             // deliveries in flight at once (16)
	Poll     time.Duration   // how often the queue is read (1 s)
	Schedule []time.Duration // the retry schedule (Schedule)
	Lease    time.Duration   // how long a claimed delivery is kept from others (60 s)
	Logger   *slog.Logger
	Now      func() time.Time
	Client   *http.Client // nil: NewClient(Insecure)
}

// Sender sends due deliveries. It runs beside the mail sender and shares
// nothing with it but the election: a slow or dead endpoint holds one of
// its own workers for at most Timeout, never a mail worker or the sign path.
type Sender struct {
	q      Queue
	opt    Options
	client *http.Client
	wake   chan struct{}
	sem    chan struct{}
	wg     sync.WaitGroup
}

// NewSender returns a sender of q's deliveries.
func NewSender(q Queue, opt Options) *Sender {
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if len(opt.Schedule) == 0 {
		opt.Schedule = Schedule
	}
	if opt.Lease <= 0 {
		opt.Lease = time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Leading == nil {
		opt.Leading = func() bool { return true }
	}
	c := opt.Client
	if c == nil {
		c = NewClient(opt.Insecure)
	}
	return &Sender{q: q, opt: opt, client: c, wake: make(chan struct{}, 1), sem: make(chan struct{}, opt.Workers)}
}

// NewClient is the HTTP client of deliveries: 10 s for everything, no
// proxy, no redirects followed, and (unless insecure) a dial that refuses
// any address that is not public, checked on the address actually dialed.
func NewClient(insecure bool) *http.Client {
	d := &net.Dialer{Timeout: Timeout}
	if !insecure {
		d.Control = dialControl
	}
	return &http.Client{
		Timeout: Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   Timeout,
			ResponseHeaderTimeout: Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Notify asks the sender to look at the queue now (a test event queued).
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends, then waits for the attempts in flight.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	defer s.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
		full := false
		if s.opt.Leading() {
			full = s.round(ctx)
		}
		if full {
			t.Reset(0)
		} else {
			t.Reset(s.opt.Poll)
		}
	}
}

// round claims as many due deliveries as there are free workers and starts
// them; full reports that it could have claimed more.
func (s *Sender) round(ctx context.Context) (full bool) {
	free := cap(s.sem) - len(s.sem)
	if free == 0 {
		return false
	}
	ds, err := s.q.ClaimWebhookDeliveries(ctx, free, s.opt.Lease)
	if err != nil {
		if ctx.Err() == nil {
			s.opt.Logger.Error("webhooks: claim deliveries", "err", err)
		}
		return false
	}
	for _, d := range ds {
		s.sem <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer func() { <-s.sem; s.wg.Done() }()
			s.deliver(context.WithoutCancel(ctx), d)
		}()
	}
	return len(ds) == free
}

// deliver makes one attempt and records it.
func (s *Sender) deliver(ctx context.Context, d store.WebhookDelivery) {
	start := s.opt.Now()
	code, errText := s.attempt(ctx, d, start)
	a := store.WebhookAttempt{DeliveryID: d.ID, EndpointID: d.EndpointID, At: s.opt.Now(), Code: code, Error: errText,
		Duration: s.opt.Now().Sub(start), DisableAfter: DisableAfter}
	if errText != "" {
		if n := d.Attempts + 1; n < len(s.opt.Schedule) {
			next := a.At.Add(s.opt.Schedule[n])
			a.Next = &next
		}
	}
	disabled, err := s.q.FinishWebhookAttempt(ctx, a)
	if err != nil {
		s.opt.Logger.Error("webhooks: record attempt", "delivery", d.ID, "err", err)
		return
	}
	if errText != "" {
		s.opt.Logger.Warn("webhooks: delivery failed", "endpoint", d.EndpointID, "delivery", d.ID, "type", d.Type,
			"attempt", d.Attempts+1, "code", code, "err", errText, "will_retry", a.Next != nil)
	}
	if disabled {
		s.opt.Logger.Error("webhooks: endpoint disabled after failing for 5 days", "endpoint", d.EndpointID)
	}
}

// attempt posts d, signed at now; errText is "" for a 2xx answer.
func (s *Sender) attempt(ctx context.Context, d store.WebhookDelivery, now time.Time) (code int, errText string) {
	sig, err := Sign(d.Secret, d.MsgID, now, d.Body)
	if err != nil {
		return 0, err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, "bad URL: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "outcry-webhooks")
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	answer, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	msg := "answered " + strconv.Itoa(resp.StatusCode)
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		msg += " (a redirect, not followed)"
	}
	if snippet := strings.TrimSpace(string(answer)); snippet != "" {
		msg += ": " + truncate(snippet, 200)
	}
	if rerr != nil {
		msg += " (answer cut: " + rerr.Error() + ")"
	}
	return resp.StatusCode, msg
}

func describe(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && errors.Is(err, ErrRefusedAddress) {
		return "refused: the address " + ErrRefusedAddress.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return fmt.Sprintf("no answer within %s", Timeout)
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
