package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/web"
)

// buildSafety wires the abuse controls and, with OUTCRY_CONFIRM=on, the
// confirmation service.
func buildSafety(ctx context.Context, cfg config.Config, camp *campaign.Campaign, st *store.Store,
	mailer delivery.Mailer, sender *delivery.Sender, log *slog.Logger) (web.Security, *confirm.Service, error) {
	secret := []byte(cfg.FormSecret)
	if len(secret) == 0 {
		// Kept in the database, so forms and links survive a restart.
		var err error
		if secret, err = st.Secret(ctx, "form"); err != nil {
			return web.Security{}, nil, err
		}
	}
	sec := web.Security{
		SubmitRate:     cfg.SubmitRate,
		TrustedProxies: cfg.TrustedProxies,
		CORSOrigins:    cfg.CORSOrigins,
		FormSecret:     secret,
		FormMinTime:    cfg.FormMinTime,
	}
	if !cfg.Confirm {
		return sec, nil, nil
	}
	replyTo := organizerReplyTo(cfg, camp)
	conf := &confirm.Service{
		Store:         st,
		Mailer:        mailer,
		Secret:        append([]byte("confirm:"), secret...),
		TTL:           cfg.ConfirmTTL,
		BaseURL:       cfg.BaseURL,
		CampaignTitle: camp.Title,
		FromName:      camp.Organizer.Name,
		ReplyTo:       replyTo,
		Limiter:       rate.NewLimiter(1, 10), // confirmation emails: 1 a second, apart from the targets' queue
		Queued:        sender.Notify,
		Logger:        log,
	}
	return sec, conf, nil
}

// organizerReplyTo is where a supporter's answer to a system email (the
// confirmation, the copy of their letter) goes: the organizer's contact
// when it is an address, else the sender address.
func organizerReplyTo(cfg config.Config, camp *campaign.Campaign) string {
	if a, err := mail.ParseAddress(camp.Organizer.Contact); err == nil && a.Address == camp.Organizer.Contact {
		return a.Address
	}
	return cfg.FromEmail
}

// sendConfirmations sends, every few seconds, the confirmation emails that
// a request left to it (over the rate) or whose send failed.
func (a *app) sendConfirmations(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.confirm.SendPending(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("confirmation emails: will try again", "err", err)
		}
	}
}

// maintain purges expired unconfirmed letters and, after the retention
// period, the text of finished messages: at start, then every 10 minutes.
func (a *app) maintain(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		a.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *app) purge(ctx context.Context) {
	now := time.Now()
	if n, err := a.store.PurgeUnconfirmed(ctx, now.Add(-a.cfg.ConfirmTTL)); err != nil {
		a.log.Error("purge unconfirmed letters", "err", err)
	} else if n > 0 {
		a.log.Info("purged unconfirmed letters past OUTCRY_CONFIRM_TTL", "supporters", n)
	}
	if a.cfg.RetentionDays > 0 {
		cutoff := now.Add(-time.Duration(a.cfg.RetentionDays) * 24 * time.Hour)
		if n, err := a.store.PurgeLetterText(ctx, cutoff); err != nil {
			a.log.Error("purge letter text", "err", err)
		} else if n > 0 {
			a.log.Info("purged letter text past OUTCRY_RETENTION_DAYS", "messages", n)
		}
	}
}

// supporterCmd is 'outcry supporter export <email>' (JSON of everything
// held about the address on stdout) and 'outcry supporter erase <email>'.
func supporterCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) != 2 || (args[0] != "export" && args[0] != "erase") {
		fmt.Fprint(stderr, "usage: outcry supporter export <email>\n       outcry supporter erase <email>\n")
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	defer st.Close()
	p := &privacy.Service{Store: st}
	if args[0] == "export" {
		exp, err := p.Export(ctx, args[1])
		if err != nil {
			fmt.Fprintln(stderr, "outcry:", err)
			return 1
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(exp); err != nil {
			fmt.Fprintln(stderr, "outcry:", err)
			return 1
		}
		return 0
	}
	n, err := p.Erase(ctx, args[1])
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no supporter with this address: nothing to erase")
		return 0
	}
	fmt.Fprintf(stdout, "erased %d supporter record(s): names, postcode, address and letter text are gone; counts and the send log remain\n", n)
	return 0
}
