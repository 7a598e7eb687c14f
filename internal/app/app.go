// Package app assembles outcry: from a configuration it builds the store,
// the campaigns, the targets, the sender, the public web server and the
// console, and runs them. cmd/outcry and the tests use it alike.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/admin"
	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/golive"
	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/i18n"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/metrics"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/outhook"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/reading"
	"github.com/outcry/outcry/internal/receipt"
	"github.com/outcry/outcry/internal/reply"
	"github.com/outcry/outcry/internal/sendwindow"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/targeting"
	"github.com/outcry/outcry/internal/update"
	"github.com/outcry/outcry/internal/web"
)

// App is the running service, built from the configuration.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Store     *store.Store
	Targets   *target.Registry
	Areas     *area.Registry // OUTCRY_AREAS (Current is nil without it)
	Campaigns *campaign.Service
	Letters   *letter.Service
	Sender    *delivery.Sender
	Mails     *outbox.MailDrain // supporter mail, drained beside the letters by the sender process
	Confirm   *confirm.Service  // nil unless OUTCRY_CONFIRM=on
	Web       *web.Server
	Console   *admin.Console
	Replies   *reply.Service   // inbound replies (issue 22)
	Followups *reply.Followups // the follow-up (issue 22)
	Reading   *reading.Links   // the targets' reading page links (issue 24)
	Updates   *update.Service  // the organizer's updates to supporters (issue 26)
	// Hooks sends the outgoing webhooks (issue 23) while this process is
	// the elected sender; HookEndpoints manages their endpoints.
	Hooks         *outhook.Sender
	HookEndpoints *outhook.Service
}

// Build opens everything the service needs. Close the store when done
// (Run does not).
func Build(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	camp, err := loadCampaign(cfg.Campaign, log)
	if err != nil {
		return nil, err
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
	targets, err := openTargets(ctx, cfg.Targets, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	campaigns, err := buildCampaigns(ctx, st, targets, camp, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	areas, err := area.Open(cfg.Areas)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("OUTCRY_AREAS: the areas file is invalid (check it with 'outcry areas check'):\n%w", err)
	}
	warnAreas(areas, campaigns, log)
	switch {
	case cfg.WebhookPublicKey != "":
	case cfg.WebhookUnsigned:
		log.Warn("OUTCRY_WEBHOOK_UNSIGNED is on: /webhooks/sendgrid accepts unsigned events that anyone can forge; turn on signed webhooks in SendGrid and set SENDGRID_WEBHOOK_PUBLIC_KEY")
	case !cfg.DryRun():
		log.Error("SENDGRID_WEBHOOK_PUBLIC_KEY is not set: /webhooks/sendgrid is off (404) and delivery events are not recorded; set the key of SendGrid's signed Event Webhook, or OUTCRY_WEBHOOK_UNSIGNED=1 to accept unsigned posts")
	default:
		log.Info("the event webhook is off: no SENDGRID_WEBHOOK_PUBLIC_KEY")
	}
	mailer := newMailer(cfg, log)
	warnGoLive(cfg, targets, log)
	meter := metrics.New(st, func() []string {
		var slugs []string
		for _, c := range campaigns.All() {
			slugs = append(slugs, c.Slug)
		}
		return slugs
	})
	queue := outbox.NewOutbox(st, targets, renderer)
	if cfg.Instance != "" {
		queue.NameMachine(cfg.Instance)
	}
	if queue.Delivery, err = deliveryPolicy(cfg, templates, campaigns, targets); err != nil {
		st.Close()
		return nil, err
	}
	log.Info("delivery", "mode", cfg.Delivery, "digest_after", cfg.DigestAfter.String(), "digest_every", cfg.DigestEvery.String(),
		"digest_at_utc", time.Time{}.Add(cfg.DigestAt).Format("15:04"), "digest_max", cfg.DigestMax, "drip", cfg.Drip)
	// The sign path's bound (OUTCRY_MAX_PENDING): letters past it get 503;
	// while letters arrive, the sender yields (delivery.Options.SignBusy).
	gate := letter.NewGate(cfg.MaxPending)
	meter.SignPath(gate.Pending, gate.Max(), gate.Shed)
	meter.WAL(st.WALBytes)
	ready := &golive.Readiness{Config: cfg, Targets: func() []target.Target { return targets.Current().All }, Hold: cfg.Readiness != "warn"}
	sender := delivery.NewSender(queue, mailer, delivery.Options{
		SignBusy:  gate.Busy,
		Held:      ready.Held,
		Workers:   cfg.SendWorkers,
		Rate:      cfg.SendRate,
		HourlyCap: cfg.TargetHourlyCap,
		NoSpread:  !cfg.Spread,
		DomainCap: cfg.DomainHourlyCap,
		DomainOf: func(id string) string {
			t, ok := targets.Current().ByID(id)
			if !ok {
				return ""
			}
			return delivery.Domain(t.Email)
		},
		// The back-off of targets whose servers push back (issue 28 §4),
		// kept in the database: every instance and a restart agree.
		Pushback:    st.StepPushback,
		MaxAttempts: cfg.MaxAttempts,
		Logger:      log,
		Observer:    meter.ObserveSend,
		// A pause the sender decides (the provider refused our key) is
		// stored, so that every instance shows it and any can lift it.
		// With the refused key's fingerprint: a restart with another key
		// lifts it (buildAdmin).
		RecordPause: func(ctx context.Context, why string) error {
			return st.SetProviderPause(ctx, why, keyFingerprint(cfg.SendGridAPIKey))
		},
	})
	mails := outbox.NewMailDrain(st, mailer, outbox.MailOptions{Rate: cfg.MailRate, Logger: log,
		Ready: func() bool {
			paused, _ := sender.Paused()
			held, _ := ready.Held()
			return sender.Leading() && !paused && !held
		}})
	letters := &letter.Service{Store: st, Targets: targets, Areas: areas, Renderer: renderer, Queued: sender.Notify,
		Messages: messages, Logger: log, Observe: meter.ObserveLetter, Similar: cfg.Similar, Gate: gate}
	security, conf, err := buildSafety(ctx, cfg, camp.Organizer, campaigns, st, mailer, sender, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	if conf != nil {
		conf.Templates = templates
		letters.Confirm = conf
	}
	receipts := &receipt.Service{Store: st, Secret: security.FormSecret, BaseURL: cfg.BaseURL, Mailer: mailer, ConfirmOn: cfg.Confirm,
		Templates: templates, Messages: messages, FromName: camp.Organizer.Name, ReplyTo: organizerReplyTo(cfg, camp.Organizer), Limiter: rate.NewLimiter(1, 10), Logger: log}
	replies, followups, err := buildReplies(cfg, st, campaigns, templates, receipts, security.FormSecret, sender, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	queue.Relay = replies
	// Updates to supporters (issue 26): their mails are queued by the
	// elected sender, into the supporter mail queue; the unsubscribe links
	// are signed with the form secret under their own purpose.
	updates := &update.Service{Store: st, Campaign: campaigns.Get, Templates: templates, BaseURL: cfg.BaseURL,
		Secret: security.FormSecret, ReplyTo: cfg.FromEmail, ReceiptLink: receipts.Link, MailRate: cfg.MailRate,
		Ready: sender.Leading, Logger: log}
	if err := updates.Check(); err != nil {
		st.Close()
		return nil, err
	}
	// Each target's private reading page (issue 24); digests link to it.
	readingLinks := &reading.Links{Store: st, Key: security.FormSecret, BaseURL: cfg.BaseURL}
	queue.Delivery.ReadingURL = readingLinks.URL
	srv, err := web.New(web.Deps{
		Reading:          readingLinks,
		ReadingStore:     st,
		Campaigns:        campaigns,
		Organizer:        camp.Organizer,
		Letters:          letters,
		Store:            st,
		Targets:          targets,
		Areas:            areas,
		Templates:        templates,
		Static:           outcry.Static(),
		BaseURL:          cfg.BaseURL,
		RetentionDays:    cfg.RetentionDays,
		Logger:           log,
		Messages:         messages,
		Security:         security,
		Confirm:          conf,
		WebhookPublicKey: cfg.WebhookPublicKey,
		WebhookUnsigned:  cfg.WebhookUnsigned,
		// Requests of every kind being handled at once: the letters'
		// bound and as many again for pages, the API's reads and the
		// console, so that a crowd cannot hold more memory than that.
		MaxRequests: 2*cfg.MaxPending + 256,
		SeeRequest:  ready.SeeRequest,
		DryRun:      cfg.DryRun(),
		// Copies of a letter emailed to its writer, only to an address that
		// proved itself; 1 a second at most here and receipt.CopiesPerMinute
		// a minute for the whole site, apart from the confirmations' own
		// limiter, so that copies never hold a confirmation back.
		Receipts:      receipts,
		InboundSecret: cfg.InboundSecret,
		Replies:       replies,
		Followups:     followups,
		Responses:     st,
		Updates:       updates,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	hooks := outhook.NewSender(st, outhook.Options{Insecure: cfg.WebhooksInsecure, Leading: sender.Leading, Logger: log})
	endpoints := &outhook.Service{Store: st, Insecure: cfg.WebhooksInsecure, Notify: hooks.Notify,
		Campaign: func(slug string) bool { _, ok := campaigns.Get(slug); return ok }}
	replies.OnReply = replyReceived(st, hooks.Notify, log)
	if cfg.WebhooksInsecure {
		log.Warn("OUTCRY_WEBHOOKS_INSECURE is on: outgoing webhooks may use plain http and reach loopback and private addresses")
	}
	meter.WatchDomains(func() map[string]int {
		out := map[string]int{}
		for _, u := range sender.DomainUses() {
			out[u.Domain] = u.Sent
		}
		return out
	}, sender.DomainCap())
	meter.WatchPushback(st, cfg.TargetHourlyCap)
	console, err := buildAdmin(ctx, cfg, log, srv, st, admin.Deps{Webhooks: endpoints, Reading: readingLinks, Similar: cfg.Similar, Campaigns: campaigns, Areas: areas, CampaignFile: camp, BaseURL: cfg.BaseURL, Delivery: queue.Delivery, Store: st, Targets: targets, Renderer: renderer,
		Sender: sender, Gate: gate, Metrics: meter, Templates: templates, Confirm: conf, Receipts: receipts, Followups: followups, Privacy: &privacy.Service{Store: st}, Readiness: ready, Replies: replies, Updates: updates})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &App{Reading: readingLinks, Config: cfg, Log: log, Store: st, Targets: targets, Areas: areas, Campaigns: campaigns, Letters: letters, Sender: sender, Mails: mails, Confirm: conf,
		Web: srv, Console: console, Hooks: hooks, HookEndpoints: endpoints, Replies: replies, Followups: followups, Updates: updates}, nil
}

// buildReplies builds what comes back (issue 22): the reply relay and its
// inbound endpoint's service, and the follow-up. The follow-up's links are
// signed with the form secret under their own purpose.
func buildReplies(cfg config.Config, st *store.Store, campaigns *campaign.Service, templates fs.FS, receipts *receipt.Service,
	secret []byte, sender *delivery.Sender, log *slog.Logger) (*reply.Service, *reply.Followups, error) {
	replies := &reply.Service{Store: st, Domain: cfg.ReplyDomain, Campaign: campaigns.Get, Templates: templates,
		ReceiptLink: receipts.Link, Logger: log}
	if err := replies.Check(); err != nil {
		return nil, nil, err
	}
	followups := &reply.Followups{Store: st, After: cfg.FollowupAfter, Campaigns: campaigns.All, Templates: templates,
		BaseURL: cfg.BaseURL, Secret: secret, ReceiptLink: receipts.Link, Logger: log,
		Ready: func() bool { return sender.Leading() }}
	if err := followups.Check(); err != nil {
		return nil, nil, err
	}
	relay := false
	for _, c := range campaigns.All() {
		relay = relay || c.Relay()
	}
	switch {
	case relay && cfg.ReplyDomain == "":
		log.Warn("a campaign has replies: relay but OUTCRY_REPLY_DOMAIN is not set: its emails keep the direct Reply-To until it is")
	case cfg.ReplyDomain != "" && cfg.InboundSecret == "":
		log.Warn("OUTCRY_REPLY_DOMAIN is set but OUTCRY_INBOUND_SECRET is not: /webhooks/sendgrid/inbound/… is off (404) and replies to relay addresses are lost")
	}
	return replies, followups, nil
}

// replyReceived reports each recorded inbound email to the outgoing
// webhooks as reply.received (issue 22 → 23): the sender, subject and text
// only to endpoints marked for personal data. The deliveries are written
// after the reply's own transaction; a failure is logged, and the reply
// stays recorded.
func replyReceived(st *store.Store, notify func(), log *slog.Logger) func(context.Context, reply.Event) {
	return func(ctx context.Context, e reply.Event) {
		d := hookevent.Reply{ID: e.ID, Campaign: e.Campaign, Target: e.TargetID, Kind: string(e.Kind), State: string(e.State),
			Direction: e.Direction, SupporterID: e.SupporterID, ReceivedAt: e.ReceivedAt.UTC(),
			FromEmail: e.FromEmail, FromName: e.FromName, Subject: e.Subject, Text: e.Text}
		err := st.AppendHook(ctx, hookevent.Event{Type: hookevent.ReplyReceived, Campaign: e.Campaign, SupporterID: e.SupporterID,
			At: e.ReceivedAt, Personal: d, Public: d.Public()})
		if err != nil {
			log.Error("webhook reply.received not queued", "reply", e.ID, "err", err)
			return
		}
		notify()
	}
}

// deliveryPolicy is how letters become emails (issue 12): the process
// defaults from the configuration, each campaign's own setting, and the
// digest template.
func deliveryPolicy(cfg config.Config, templates fs.FS, campaigns *campaign.Service, targets *target.Registry) (*outbox.Policy, error) {
	digests, err := outbox.NewDigestRenderer(templates)
	if err != nil {
		return nil, err
	}
	digests.Similar, digests.MaxBytes = cfg.Similar, cfg.DigestMaxBytes
	return &outbox.Policy{
		Cap: cfg.TargetHourlyCap, Mode: delivery.Mode(cfg.Delivery), Drip: cfg.Drip,
		After: cfg.DigestAfter, Every: cfg.DigestEvery, At: cfg.DigestAt, Max: cfg.DigestMax,
		ReplyTo: cfg.FromEmail, Digests: digests,
		Campaign: func(slug string) (outbox.CampaignInfo, bool) {
			c, ok := campaigns.Get(slug)
			if !ok {
				return outbox.CampaignInfo{}, false
			}
			// A digest speaks for many supporters: replies go to the
			// campaign's address (its organizer's contact, else
			// OUTCRY_FROM_EMAIL), never to one of them.
			info := outbox.CampaignInfo{Title: c.Title, Subject: c.Letter.Subject, Body: c.Letter.Body,
				Organizer: c.Organizer.Name, ReplyTo: cfg.FromEmail,
				Delivery: outbox.Delivery{Mode: delivery.Mode(c.Delivery), Drip: c.Drip}, Window: c.Window()}
			if every, at, hasAt, ok := c.DigestSchedule(); ok {
				if !hasAt {
					at = cfg.DigestAt
				}
				info.Digest = &sendwindow.Schedule{Every: every, At: at}
			}
			if a, err := mail.ParseAddress(c.Organizer.Contact); err == nil && a.Address == c.Organizer.Contact {
				info.ReplyTo = a.Address
			}
			if len(c.Letter.Versions) > 0 {
				info.LetterFor = func(id string) (string, string) {
					t, _ := targets.Current().ByID(id)
					l := targeting.Letter(c, []target.Target{t})
					return l.Subject, l.Body
				}
			}
			return info, true
		},
	}, nil
}

// buildCampaigns loads the stored campaigns and seeds the campaign file's.
func buildCampaigns(ctx context.Context, st *store.Store, targets *target.Registry, file *campaign.Campaign, log *slog.Logger) (*campaign.Service, error) {
	campaigns, err := campaign.NewService(ctx, st)
	if err != nil {
		return nil, err
	}
	campaigns.Logger = log
	campaigns.Organizer = file.Organizer
	campaigns.KnownTarget = func(id string) bool {
		_, ok := targets.Current().ByID(id)
		return ok
	}
	if err := campaigns.Seed(ctx, file); err != nil {
		return nil, err
	}
	// A default letter saved in the console before campaigns were stored
	// becomes the campaign's own (edited in the console).
	subject, body, ok, err := st.LetterDefaults(ctx, file.Slug)
	if err != nil {
		return nil, err
	}
	if ok {
		if _, err := campaigns.Update(ctx, file.Slug, campaign.Input{Subject: &subject, Body: &body}); err != nil {
			return nil, err
		}
		if err := st.ClearLetterDefaults(ctx, file.Slug); err != nil {
			return nil, err
		}
	}
	return campaigns, nil
}

// keyFingerprint names an API key without holding it: the first 16 hex
// digits of its SHA-256.
func keyFingerprint(key string) string {
	h := sha256.Sum256([]byte("outcry api key\x00" + key))
	return hex.EncodeToString(h[:8])
}

// buildAdmin restores a stored pause and registers the organizer console.
// A pause the provider's refusal of the key caused (401/403) is lifted when
// this process starts with a different key; the log says which pause it is.
func buildAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, srv *web.Server, st *store.Store, d admin.Deps) (*admin.Console, error) {
	paused, why, err := st.CampaignPause(ctx)
	if err != nil {
		return nil, err
	}
	if paused {
		refused, byProvider, err := st.PauseKey(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case byProvider && refused != keyFingerprint(cfg.SendGridAPIKey):
			if err := st.SetCampaignPause(ctx, false, ""); err != nil {
				return nil, err
			}
			log.Warn("sending resumes: it was paused because SendGrid refused the API key (401/403), and this process starts with a different SENDGRID_API_KEY", "reason", why)
		case byProvider:
			d.Sender.Pause(why)
			log.Warn("sending is paused: SendGrid refused this API key (401/403); set a working SENDGRID_API_KEY and restart, or resume from the console", "reason", why)
		default:
			d.Sender.Pause(why)
			log.Warn("sending is paused (set from the console); resume it there", "reason", why)
		}
	}
	d.Password, d.PasswordHash, d.Token = cfg.AdminPassword, cfg.AdminPasswordHash, cfg.AdminToken
	d.SessionSecret = []byte(cfg.SessionSecret)
	if cfg.SessionSecret == "" && store.IsPostgres(cfg.DB) {
		// Several instances behind one address: a session begun on one
		// must hold on the others, so they share the key.
		if d.SessionSecret, err = st.Secret(ctx, "session"); err != nil {
			return nil, err
		}
	}
	d.SecureCookies = strings.HasPrefix(cfg.BaseURL, "https://")
	d.SendRate, d.HourlyCap, d.Logger = cfg.SendRate, cfg.TargetHourlyCap, log
	d.FromEmail, d.FromName, d.Sandbox = cfg.FromEmail, cfg.FromName, cfg.Sandbox && !cfg.DryRun()
	d.CampaignPath = cfg.Campaign
	if _, err := os.Stat(cfg.Campaign); err != nil {
		d.CampaignPath = "the bundled campaign.yaml"
	}
	if cfg.AdminPassword == "" && cfg.AdminPasswordHash == "" {
		log.Info("organizer console disabled: set OUTCRY_ADMIN_PASSWORD (or OUTCRY_ADMIN_PASSWORD_HASH) to enable /admin")
	} else if cfg.SessionSecret == "" && !store.IsPostgres(cfg.DB) {
		log.Info("no OUTCRY_SESSION_SECRET: console sessions end when outcry restarts")
	}
	return admin.Register(srv.Echo, d)
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

// Run serves on ln and sends until ctx ends, then shuts down gracefully.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
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
				if a.Areas.Path() != "" {
					if err := a.Areas.Reload(); err != nil {
						a.Log.Error("areas reload refused; the previous areas stay in force", "err", err)
					}
				}
			}
		}
	}()

	// Every second: the file (a hand edit is imported for every instance)
	// and the database (another instance's change is put in force).
	if err := a.Targets.Watch(ctx, target.WatchOptions{Logger: a.Log}); err != nil {
		a.Log.Warn("targets file watcher not started; SIGHUP still reloads", "err", err)
	}

	// The areas file too: a new version is in force within seconds, a bad
	// one is refused with its line and the version in force stays.
	if err := a.Areas.Watch(ctx, area.WatchOptions{Logger: a.Log}); err != nil {
		a.Log.Warn("areas file watcher not started", "err", err)
	}

	senderDone := make(chan error, 1)
	go func() { senderDone <- a.Sender.Run(ctx) }()
	mailsDone := make(chan error, 1)
	go func() { mailsDone <- a.Mails.Run(ctx) }()
	hooksDone := make(chan error, 1)
	go func() { hooksDone <- a.Hooks.Run(ctx) }()
	defer func() { cancel(); <-hooksDone }()
	go a.maintain(ctx)
	go a.follow(ctx)
	go a.Followups.Run(ctx, followupEvery(a.Config.FollowupAfter))
	go a.Updates.Run(ctx, updatesEvery)
	if a.Confirm != nil {
		go a.sendConfirmations(ctx)
	}

	hs := &http.Server{
		Handler:           a.Web.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	a.Log.Info("outcry is serving", "addr", ln.Addr().String(), "url", a.Config.BaseURL, "mailer", a.Sender.Mailer().Name())

	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			cancel()
			<-senderDone
			<-mailsDone
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing requests and in-flight sends")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		a.Log.Error("http shutdown", "err", err)
	}
	<-senderDone
	<-mailsDone
	a.Log.Info("stopped")
	return nil
}

func (a *App) reloadTargets() {
	if err := a.Targets.Reload(); err != nil {
		a.Log.Error("targets reload refused; the previous list stays in force", "err", err)
		return
	}
	a.Log.Info("targets reloaded", "targets", len(a.Targets.Current().All), "active", len(a.Targets.Current().Active()))
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

// openTargets loads the list of targets shared by every instance on the
// database, and makes targets.yaml show it (target.NewShared says how a
// file and the database are reconciled at start).
func openTargets(ctx context.Context, path string, st *store.Store, log *slog.Logger) (*target.Registry, error) {
	if _, ok, err := st.LatestTargetList(ctx); err != nil {
		return nil, err
	} else if !ok {
		// A new database: the file seeds it (the bundled one on a fresh
		// machine). With a list in the database, a missing file is
		// written with that list instead.
		if err := ensureTargetsFile(path, log); err != nil {
			return nil, err
		}
	}
	targets, err := target.NewShared(ctx, path, st, log)
	var ps target.Problems
	if errors.As(err, &ps) {
		return nil, fmt.Errorf("targets file is invalid (fix it, or check it with 'outcry targets check'):\n%w", err)
	}
	return targets, err
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

// buildSafety wires the abuse controls and, with OUTCRY_CONFIRM=on, the
// confirmation service.
func buildSafety(ctx context.Context, cfg config.Config, org campaign.Organizer, campaigns *campaign.Service, st *store.Store,
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
		EmbedOrigins:   cfg.EmbedOrigins,
		FormSecret:     secret,
		FormMinTime:    cfg.FormMinTime,
	}
	if !cfg.Confirm {
		return sec, nil, nil
	}
	replyTo := organizerReplyTo(cfg, org)
	conf := &confirm.Service{
		Store:    st,
		Mailer:   mailer,
		Secret:   append([]byte("confirm:"), secret...),
		TTL:      cfg.ConfirmTTL,
		BaseURL:  cfg.BaseURL,
		Title:    campaigns.Title,
		FromName: org.Name,
		ReplyTo:  replyTo,
		Limiter:  rate.NewLimiter(1, 10), // confirmation emails: 1 a second, apart from the targets' queue
		Queued:   sender.Notify,
		Logger:   log,
	}
	return sec, conf, nil
}

// sendConfirmations sends, every few seconds, the confirmation emails that
// a request left to it (over the rate) or whose send failed.
func (a *App) sendConfirmations(ctx context.Context) {
	every(ctx, 5*time.Second, func() {
		if _, err := a.Confirm.SendPending(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("confirmation emails: will try again", "err", err)
		}
	})
}

// every runs fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

// followupEvery is how often due follow-ups are looked for: a tenth of
// OUTCRY_FOLLOWUP_AFTER, between 1 second and 10 minutes.
func followupEvery(after time.Duration) time.Duration {
	return min(max(after/10, time.Second), 10*time.Minute)
}

// updatesEvery is how often the sender process looks for update mails to
// queue (sooner when an update is sent on that instance: update.Kick).
const updatesEvery = 5 * time.Second

// followEvery is how often an instance reads what the console may have
// changed on another instance sharing the database (the campaigns): a
// change is in force everywhere within 5 s.
const followEvery = 2 * time.Second

// follow keeps this instance's campaigns as the database has them.
func (a *App) follow(ctx context.Context) {
	every(ctx, followEvery, func() {
		if err := a.Campaigns.Refresh(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("campaigns: read from the database: will try again", "err", err)
		}
	})
}

// maintain purges expired unconfirmed letters and, after the retention
// period, the text of finished messages: at start, then every 10 minutes.
func (a *App) maintain(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		a.Purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Purge removes what the retention settings say must go: expired
// unconfirmed letters, and letter text past OUTCRY_RETENTION_DAYS.
func (a *App) Purge(ctx context.Context) {
	now := time.Now()
	if n, err := a.Store.PurgeUnconfirmed(ctx, now.Add(-a.Config.ConfirmTTL)); err != nil {
		a.Log.Error("purge unconfirmed letters", "err", err)
	} else if n > 0 {
		a.Log.Info("purged unconfirmed letters past OUTCRY_CONFIRM_TTL", "supporters", n)
	}
	if a.Config.RetentionDays > 0 {
		cutoff := now.Add(-time.Duration(a.Config.RetentionDays) * 24 * time.Hour)
		if n, err := a.Store.PurgeLetterText(ctx, cutoff); err != nil {
			a.Log.Error("purge letter text", "err", err)
		} else if n > 0 {
			a.Log.Info("purged letter text past OUTCRY_RETENTION_DAYS", "messages", n)
		}
	}
}

// organizerReplyTo is where a supporter's answer to a system email (the
// confirmation, the copy of their letter) goes: the organizer's contact
// when it is an address, else the sender address.
func organizerReplyTo(cfg config.Config, org campaign.Organizer) string {
	if a, err := mail.ParseAddress(org.Contact); err == nil && a.Address == org.Contact {
		return a.Address
	}
	return cfg.FromEmail
}

// warnAreas logs, at start, what the console's targeting page warns of.
func warnAreas(areas *area.Registry, campaigns *campaign.Service, log *slog.Logger) {
	ix := areas.Current()
	if ix != nil {
		log.Info("areas file loaded", "path", areas.Path(), "rows", ix.Version.Rows, "keys", ix.Keys(), "areas", len(ix.Areas()),
			"split_keys", ix.SplitKeys(), "version", ix.Version.String())
	}
	for _, c := range campaigns.All() {
		if c.Targeting.ByArea() && ix == nil {
			log.Warn("campaign matches targets by area but OUTCRY_AREAS is not set: every postcode is unmatched", "campaign", c.Slug,
				"fallback", len(c.Targeting.Fallback))
		}
	}
}
