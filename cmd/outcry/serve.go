package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/admin"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/golive"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/web"
)

// app is the running service, built from the configuration.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	store   *store.Store
	targets *target.Registry
	sender  *delivery.Sender
	confirm *confirm.Service // nil unless OUTCRY_CONFIRM=on
	web     *web.Server
}

func serve(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	slog.SetDefault(log)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on OUTCRY_ADDR=%s: %w", cfg.Addr, err)
	}
	return a.run(ctx, ln)
}

// build opens everything the service needs.
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	camp, err := loadCampaign(cfg.Campaign, log)
	if err != nil {
		return nil, err
	}
	if err := ensureTargetsFile(cfg.Targets, log); err != nil {
		return nil, err
	}
	targets, err := target.NewRegistry(cfg.Targets)
	if err != nil {
		return nil, fmt.Errorf("targets file is invalid (fix it, or check it with 'outcry targets check'):\n%w", err)
	}
	templates := outcry.Templates(cfg.Templates)
	renderer, err := letter.NewRenderer(templates)
	if err != nil {
		return nil, err
	}
	messages, err := i18n.Load(templates, cfg.Lang)
	if err != nil {
		return nil, fmt.Errorf("OUTCRY_LANG=%s: %w", cfg.Lang, err)
	}
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	recent, err := st.RecentSends(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		st.Close()
		return nil, err
	}
	if cfg.WebhookPublicKey == "" && !cfg.DryRun() {
		log.Warn("SENDGRID_WEBHOOK_PUBLIC_KEY is not set: /webhooks/sendgrid accepts unsigned events; turn on signed webhooks in SendGrid and set the key")
	}
	mailer := newMailer(cfg, log)
	warnGoLive(cfg, targets, log)
	metrics := admin.NewMetrics(st, camp.Slug)
	sender := delivery.NewSender(st, mailer, delivery.Options{
		Workers:     cfg.SendWorkers,
		Rate:        cfg.SendRate,
		HourlyCap:   cfg.TargetHourlyCap,
		MaxAttempts: cfg.MaxAttempts,
		Logger:      log,
		RecentSends: recent,
		Observer:    metrics.ObserveSend,
	})
	letters := &letter.Service{Store: st, Targets: targets, Renderer: renderer, Queued: sender.Notify,
		Messages: messages, Logger: log, Observe: metrics.ObserveLetter}
	security, conf, err := buildSafety(ctx, cfg, camp, st, mailer, sender, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	if conf != nil {
		letters.Confirm = conf
	}
	srv, err := web.New(web.Deps{
		Campaign:         camp,
		Letters:          letters,
		Store:            st,
		Targets:          targets,
		Templates:        templates,
		Static:           outcry.Static(),
		BaseURL:          cfg.BaseURL,
		RetentionDays:    cfg.RetentionDays,
		Logger:           log,
		Messages:         messages,
		Security:         security,
		Confirm:          conf,
		WebhookPublicKey: cfg.WebhookPublicKey,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := buildAdmin(ctx, cfg, log, srv, admin.Deps{Campaign: camp, Store: st, Targets: targets, Renderer: renderer,
		Sender: sender, Metrics: metrics, Templates: templates, Confirm: conf, Privacy: &privacy.Service{Store: st}}); err != nil {
		st.Close()
		return nil, err
	}
	return &app{cfg: cfg, log: log, store: st, targets: targets, sender: sender, confirm: conf, web: srv}, nil
}

// buildAdmin restores a campaign pause saved by the console and registers
// the organizer console.
func buildAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, srv *web.Server, d admin.Deps) error {
	paused, why, err := d.Store.CampaignPause(ctx)
	if err != nil {
		return err
	}
	if paused {
		d.Sender.Pause(why)
		log.Warn("sending is paused (set from the console); resume it there", "reason", why)
	}
	d.Password, d.PasswordHash, d.Token = cfg.AdminPassword, cfg.AdminPasswordHash, cfg.AdminToken
	d.SessionSecret = []byte(cfg.SessionSecret)
	d.SecureCookies = strings.HasPrefix(cfg.BaseURL, "https://")
	d.SendRate, d.HourlyCap, d.Logger = cfg.SendRate, cfg.TargetHourlyCap, log
	d.FromEmail, d.FromName, d.Sandbox = cfg.FromEmail, cfg.FromName, cfg.Sandbox && !cfg.DryRun()
	d.CampaignFile = cfg.Campaign
	if _, err := os.Stat(cfg.Campaign); err != nil {
		d.CampaignFile = "the bundled campaign.yaml"
	}
	d.GoLive = func() []string { return golive.Check(cfg, d.Targets.Current().All) }
	if cfg.AdminPassword == "" && cfg.AdminPasswordHash == "" {
		log.Info("organizer console disabled: set OUTCRY_ADMIN_PASSWORD (or OUTCRY_ADMIN_PASSWORD_HASH) to enable /admin")
	} else if cfg.SessionSecret == "" {
		log.Info("no OUTCRY_SESSION_SECRET: console sessions end when outcry restarts")
	}
	_, err = admin.Register(srv.Echo, d)
	return err
}

func newMailer(cfg config.Config, log *slog.Logger) delivery.Mailer {
	if cfg.DryRun() {
		log.Warn("no SENDGRID_API_KEY: dry-run mode, messages are recorded as sent but nothing leaves this machine")
		return delivery.NewDryRun(log)
	}
	log.Info("live sending through SendGrid", "url", cfg.SendGridURL, "from", cfg.FromEmail, "sandbox", cfg.Sandbox,
		"rate_per_second", cfg.SendRate, "target_hourly_cap", cfg.TargetHourlyCap)
	return delivery.NewSendGrid(delivery.SendGridConfig{
		APIKey:    cfg.SendGridAPIKey,
		BaseURL:   cfg.SendGridURL,
		FromEmail: cfg.FromEmail,
		FromName:  cfg.FromName,
		Sandbox:   cfg.Sandbox,
		Timeout:   cfg.SendTimeout,
	})
}

// run serves on ln and sends until ctx ends, then shuts down gracefully.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	// A failing listener stops the sender too, before the store is closed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				a.reloadTargets()
			}
		}
	}()

	if err := a.targets.Watch(ctx, target.WatchOptions{Logger: a.log}); err != nil {
		a.log.Warn("targets file watcher not started; SIGHUP still reloads", "err", err)
	}

	senderDone := make(chan error, 1)
	go func() { senderDone <- a.sender.Run(ctx) }()
	go a.maintain(ctx)
	if a.confirm != nil {
		go a.sendConfirmations(ctx)
	}

	hs := &http.Server{
		Handler:           a.web.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	a.log.Info("outcry is serving", "addr", ln.Addr().String(), "url", a.cfg.BaseURL, "mailer", a.sender.Mailer().Name())

	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			cancel()
			<-senderDone
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing requests and in-flight sends")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		a.log.Error("http shutdown", "err", err)
	}
	<-senderDone
	a.log.Info("stopped")
	return nil
}

func (a *app) reloadTargets() {
	if err := a.targets.Reload(); err != nil {
		a.log.Error("targets reload refused; the previous list stays in force", "err", err)
		return
	}
	a.log.Info("targets reloaded", "targets", len(a.targets.Current().All), "active", len(a.targets.Current().Active()))
}

// loadCampaign reads the campaign file, or the bundled example when the
// file does not exist.
func loadCampaign(path string, log *slog.Logger) (*campaign.Campaign, error) {
	c, err := campaign.Load(path)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("OUTCRY_CAMPAIGN: %w", err)
	}
	data, berr := outcry.Bundled("campaign.yaml")
	if berr != nil {
		return nil, berr
	}
	log.Info("no campaign file, serving the bundled example campaign", "missing", path)
	return campaign.Parse("campaign.yaml (bundled)", data)
}

// ensureTargetsFile writes the bundled targets file where none exists, so
// that a fresh machine runs the example and the organizer has a file to edit.
func ensureTargetsFile(path string, log *slog.Logger) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	data, err := outcry.Bundled("targets.yaml")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write bundled targets to OUTCRY_TARGETS=%s: %w", path, err)
	}
	log.Info("wrote the bundled targets file; edit it to choose who receives the letters", "path", path)
	return nil
}
