package admin

import (
	"context"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/golive"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/store"
)

// consolePaths are the console's pages (logged in), for checks that hold on
// every one of them.
var consolePaths = []string{"/admin", "/admin/targets", "/admin/targets/ted-sarandos", "/admin/letter",
	"/admin/messages", "/admin/messages/1", "/admin/supporters", "/admin/messages?status=nope"}

func TestDryRunIsSaidOnEveryPageAndMessagesAreLabelled(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var dry *delivery.Sender
	e := newEnv(t, func(d *Deps) {
		dry = delivery.NewSender(outbox.NewOutbox(d.Store.(*store.Store), d.Targets, d.Renderer), delivery.NewDryRun(quiet), delivery.Options{PollInterval: 5 * time.Millisecond, Logger: quiet})
		d.Sender = dry
	})
	e.sign("ann@example.org")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { dry.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, _ := e.store.StatusCounts(context.Background(), e.camp.Slug)
		if c["sent"] == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dry-run sender did not finish: %v", c)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.login()
	for _, p := range consolePaths {
		r := e.get(p)
		if !strings.Contains(r.body, `id="dry-run-banner"`) || !strings.Contains(r.body, "Dry run: no email leaves this machine.") {
			t.Errorf("%s (%d): no dry-run banner", p, r.status)
		}
	}
	if r := e.get("/admin/messages"); strings.Count(r.body, "<td>sent (dry run)</td>") != 4 {
		t.Errorf("send log does not label the 4 dry-run messages:\n%s", r.body)
	}
	if r := e.get("/admin/messages/1"); !strings.Contains(r.body, "sent (dry run)") || !strings.Contains(r.body, "nothing was sent") {
		t.Errorf("message page does not say it was a dry run:\n%s", r.body)
	}
	if r := e.get("/admin"); strings.Contains(r.body, "Sending is running") || !strings.Contains(r.body, "nothing leaves this machine") {
		t.Errorf("dashboard claims sending in dry-run:\n%s", r.body)
	}
}

func TestLiveConsoleHasNoDryRunBanner(t *testing.T) {
	e := newEnv(t) // the mailbox stands for SendGrid
	e.sign("ann@example.org")
	e.run()
	for deadline := time.Now().Add(10 * time.Second); len(e.mailer.Sent()) < 4; {
		if time.Now().After(deadline) {
			t.Fatal("sender did not send")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.login()
	for _, p := range consolePaths {
		if r := e.get(p); strings.Contains(r.body, "dry-run-banner") || strings.Contains(r.body, "(dry run)") {
			t.Errorf("%s: says dry run with a live mailer", p)
		}
	}
}

func TestGoLiveProblemsOnEveryPage(t *testing.T) {
	cfg := config.Default()
	cfg.SendGridAPIKey, cfg.FromEmail, cfg.BaseURL, cfg.WebhookPublicKey = "SG.x", "campaigns@example.com", "https://write.campaign.org", "k"
	ready := &golive.Readiness{Config: cfg, Hold: true}
	e := newEnv(t, func(d *Deps) { d.Readiness = ready; d.Sandbox = true })
	e.sign("ann@example.org")
	if r := e.get("/admin/login"); strings.Contains(r.body, "golive-banner") {
		t.Error("the login page shows the configuration to anyone")
	}
	e.login()
	for _, p := range consolePaths {
		r := e.get(p)
		if !strings.Contains(r.body, `id="golive-banner"`) || !strings.Contains(r.body, "OUTCRY_FROM_EMAIL=campaigns@example.com is a placeholder") ||
			!strings.Contains(r.body, "Live sending is held") {
			t.Errorf("%s: no go-live banner saying sending is held", p)
		}
		if !strings.Contains(r.body, `id="sandbox-banner"`) {
			t.Errorf("%s: no sandbox banner", p)
		}
	}
	if r := e.get("/admin"); !strings.Contains(r.body, "Sending is held") || strings.Contains(r.body, "Sending is running") {
		t.Error("the dashboard does not say sending is held")
	}
	cfg.FromEmail = "campaigns@campaign.org"
	e = newEnv(t, func(d *Deps) { d.Readiness = &golive.Readiness{Config: cfg, Hold: true} })
	e.login()
	if r := e.get("/admin"); strings.Contains(r.body, "golive-banner") {
		t.Error("banner shown after the problems are fixed")
	}
}
