// Package admin is the organizer console under /admin: a password-protected
// browser console (sessions in a signed cookie, CSRF tokens on every form)
// and a JSON API under /admin/api/ behind a Bearer token, plus /metrics.
package admin

import (
	"context"
	"crypto/rand"
	"fmt"
	"github.com/outcry/outcry/internal/area"
	"github.com/outcry/outcry/internal/reading"
	"html/template"
	"io/fs"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/golive"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/metrics"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/outhook"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// Store is what the console needs of the database: the union of its pages' ports.
type Store interface {
	Sessions
	Figures
	TargetsState
	SendLog
	DigestLog
	Supporters
	SendingPause
	Reading
	Responses
}

// Responses are what came back (issue 22): replies listed on the Replies
// page, response figures per target (dashboard, stats API).
type Responses interface {
	Replies(ctx context.Context, f store.ReplyFilter) ([]store.Reply, error)
	ResponseStats(ctx context.Context, campaign string) (map[string]*store.Responses, error)
}

// ReplyDesk is the organizer's actions on replies (internal/reply).
type ReplyDesk interface {
	Accept(ctx context.Context, id int64) (bool, error)
	Drop(ctx context.Context, id int64) (bool, error)
	Publish(ctx context.Context, id int64) (bool, error)
}

// Sessions records console logins server-side, so that logging out ends one (login, every page).
type Sessions interface {
	CreateAdminSession(ctx context.Context, id string, expires time.Time) error
	AdminSessionActive(ctx context.Context, id string) (bool, error)
	EndAdminSession(ctx context.Context, id string) error
}

// Figures are a campaign's counts by status, its letters per hour and the queues' heads (dashboard, campaigns pages).
type Figures interface {
	StatusCounts(ctx context.Context, campaign string) (map[string]int, error)
	SupporterCount(ctx context.Context, campaign string) (int, error)
	LettersPerHour(ctx context.Context, campaign string) ([]store.HourCount, error)
	QueueHeads(ctx context.Context, targets []string) ([]store.QueueHead, error)
}

// TargetsState is the targets' sending state and their ids' history (targets pages).
type TargetsState interface {
	TargetStatusCounts(ctx context.Context) (map[string]map[string]int, error)
	CampaignTargetStatusCounts(ctx context.Context, campaign string) (map[string]map[string]int, error)
	TargetStates(ctx context.Context) (map[string]store.TargetState, error)
	SetTargetPaused(ctx context.Context, targetID string, paused bool) error
	ClearNeedsAttention(ctx context.Context, targetID string) error
	RetryFailed(ctx context.Context, targetID string) (int, error)
	RecordRemovedTarget(ctx context.Context, id, name string) error
	TargetIDUsed(ctx context.Context, id string) (used bool, what string, err error)
	// The back-off of targets whose servers push back (issue 28 §4).
	TargetPushbacks(ctx context.Context) (map[string]pushback.State, error)
	PushbackSteps(ctx context.Context, targetID string, limit int) ([]pushback.Step, error)
}

// SendLog is the messages: listed, searched, exported, shown, retried and cancelled (messages pages, API).
type SendLog interface {
	Messages(ctx context.Context, f store.MessageFilter) ([]store.MessageRow, error)
	MessagesMatching(ctx context.Context, f store.MessageFilter, window int64) (rows []store.MessageRow, older int64, err error)
	EachMessage(ctx context.Context, f store.MessageFilter, fn func(store.MessageRow) error) error
	Message(ctx context.Context, id int64) (*store.MessageDetail, error)
	RetryMessage(ctx context.Context, id int64) (bool, error)
	CancelMessage(ctx context.Context, id int64) (bool, error)
}

// DigestLog is a campaign's digests and the letters each carried (digests page).
type DigestLog interface {
	Digests(ctx context.Context, campaign string, limit int) ([]store.DigestRow, error)
	DigestMessages(ctx context.Context, digest int64) ([]int64, error)
	// One digest, the letters it carried, and the next one a target would
	// receive (the digest's page and the previews, issue 26).
	Digest(ctx context.Context, id int64) (store.DigestRow, error)
	DigestLettersOf(ctx context.Context, digest int64) ([]store.DigestLetter, error)
	PendingDigest(ctx context.Context, campaign, targetID string, max int) (store.PendingDigest, error)
}

// Supporters are a campaign's supporters for export, and a data request's records and erasure (supporters page, API).
type Supporters interface {
	EachSupporter(ctx context.Context, campaign string, fn func(store.SupporterRow) error) error
	Supporters(ctx context.Context, campaign string, after int64, limit int) ([]store.SupporterRow, error)
	SourceCounts(ctx context.Context, campaign string) ([]store.SourceCount, error)
	privacy.Store
}

// SendingPause keeps the console's pause of all sending across restarts (dashboard).
type SendingPause interface {
	SetCampaignPause(ctx context.Context, paused bool, reason string) error
}

// Deps is what the console needs.
type Deps struct {
	Campaigns *campaign.Service
	// CampaignFile is the campaign read from the campaign file (nil: none):
	// a campaign edited in the console can go back to it.
	CampaignFile *campaign.Campaign
	BaseURL      string
	// Delivery is the delivery policy (modes, digests, drip): the
	// dashboard's estimate per target. nil: no estimate.
	Delivery *outbox.Policy
	Store    Store
	Targets  *target.Registry
	Areas    *area.Registry // OUTCRY_AREAS (nil or Current nil: none)
	Renderer *letter.Renderer
	Sender   *delivery.Sender
	Gate     *letter.Gate     // the sign path's bound (OUTCRY_MAX_PENDING); nil: none shown
	Metrics  *metrics.Metrics // nil: no /metrics
	Privacy  *privacy.Service // nil: one on Store
	Confirm  *confirm.Service // nil: confirmation off (no dry-run links to show)
	// Receipts and Followups render the copy and follow-up emails for
	// the previews page (nil: shown as not sent).
	Receipts  ReceiptPreview
	Followups FollowupPreview
	Webhooks  *outhook.Service // outgoing webhooks' endpoints (nil: one on Store)
	Templates fs.FS            // the templates folder; pages are read from admin/*.html
	Replies   ReplyDesk        // nil: the Replies page lists, but offers no action
	Updates   UpdateDesk       // the organizer's updates to supporters (issue 26); nil: off
	// Reading makes, revokes and reissues the targets' reading links (nil:
	// none shown); Similar is OUTCRY_SIMILAR (issue 24).
	Reading *reading.Links
	Similar float64

	Password      string // OUTCRY_ADMIN_PASSWORD
	PasswordHash  string // OUTCRY_ADMIN_PASSWORD_HASH (bcrypt)
	Token         string // OUTCRY_ADMIN_TOKEN
	SessionSecret []byte // OUTCRY_SESSION_SECRET; nil: random per start
	SecureCookies bool   // OUTCRY_BASE_URL is https
	SendRate      float64
	HourlyCap     int
	CampaignPath  string // OUTCRY_CAMPAIGN, named on the letter page ("" = campaign.yaml)
	FromEmail     string // OUTCRY_FROM_EMAIL: shown in the letter preview
	FromName      string // OUTCRY_FROM_NAME
	Sandbox       bool   // OUTCRY_SANDBOX with live sending: SendGrid delivers nothing
	// Readiness says what stands in the way of live sending and whether it
	// is held (package golive), shown on every console page and in
	// GET /admin/api/stats; nil: nothing to check.
	Readiness *golive.Readiness

	// LoginEvery and LoginBurst limit login attempts per client address
	// (default: a burst of 5, then one every 10 seconds).
	LoginEvery time.Duration
	LoginBurst int
	Logger     *slog.Logger
	Now        func() time.Time
}

// Console is the registered console.
type Console struct {
	d     Deps
	svc   *service
	auth  *auth
	pages map[string]*template.Template
	log   *slog.Logger
}

var pageNames = []string{"areas", "replies", "login", "disabled", "expired", "dashboard", "targets", "target", "remove", "letter", "messages", "message", "supporters",
	"campaigns", "campaign", "digests", "webhooks", "updates", "preview"}

// Register adds the console's routes to e. Without a password the console
// answers every page with how to enable it; without a token the API and
// /metrics are off.
func Register(e *echo.Echo, d Deps) (*Console, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.CampaignPath == "" {
		d.CampaignPath = "campaign.yaml"
	}
	if def := config.Default(); d.FromEmail == "" {
		d.FromEmail, d.FromName = def.FromEmail, def.FromName
	}
	if d.LoginEvery <= 0 {
		d.LoginEvery = 10 * time.Second
	}
	if d.LoginBurst <= 0 {
		d.LoginBurst = 5
	}
	if len(d.SessionSecret) == 0 {
		d.SessionSecret = []byte(rand.Text() + rand.Text())
	}
	if d.Webhooks == nil {
		if ws, ok := d.Store.(outhook.Endpoints); ok {
			d.Webhooks = &outhook.Service{Store: ws, Campaign: func(slug string) bool { _, ok := d.Campaigns.Get(slug); return ok }}
		}
	}
	c := &Console{d: d, svc: &service{d: d}, log: d.Logger, pages: map[string]*template.Template{}}
	c.auth = &auth{password: d.Password, hash: []byte(d.PasswordHash), secret: d.SessionSecret, secure: d.SecureCookies,
		now: d.Now, limiter: newIPLimiter(d.LoginEvery, d.LoginBurst)}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(d.Templates, "admin/layout.html", "admin/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: parse admin/%s.html: %w", name, err)
		}
		c.pages[name] = t
	}
	c.routes(e)
	return c, nil
}

func (c *Console) routes(e *echo.Echo) {
	e.GET("/metrics", c.metrics, c.requireToken)
	api := e.Group("/admin/api", c.requireToken)
	api.GET("/messages", c.apiMessages)
	api.GET("/stats", c.apiStats)
	api.GET("/supporters", c.apiSupporters)
	api.GET("/supporters/export", c.apiSupporterExport)
	api.GET("/campaigns", c.apiCampaigns)
	api.POST("/campaigns", c.apiCreateCampaign)
	api.PATCH("/campaigns/:slug", c.apiPatchCampaign)
	api.PUT("/campaigns/:slug/image", c.apiPutImage)
	api.GET("/campaigns/:slug/updates", c.apiUpdates)
	api.POST("/campaigns/:slug/updates", c.apiSendUpdate)
	api.POST("/supporters/erase", c.apiSupporterErase)
	api.GET("/webhooks", c.apiWebhooks)
	api.POST("/webhooks", c.apiCreateWebhook)
	api.PATCH("/webhooks/:id", c.apiPatchWebhook)
	api.DELETE("/webhooks/:id", c.apiDeleteWebhook)

	e.GET("/admin/login", c.loginPage, c.requireEnabled)
	e.POST("/admin/login", c.login, c.requireEnabled)
	g := e.Group("/admin", c.requireEnabled, c.requireSession)
	g.GET("", c.dashboard)
	g.GET("/", c.dashboard)
	g.POST("/logout", c.logout)
	g.POST("/pause", c.pause)
	g.POST("/resume", c.resume)
	g.GET("/digests", c.digestsPage)
	g.GET("/preview", c.previewPage)
	g.GET("/replies", c.repliesPage)
	g.POST("/replies/:id/:action", c.replyAction)
	g.GET("/updates", c.updatesPage)
	g.POST("/updates", c.updatesPost)
	g.GET("/reading", c.readingPage)
	g.POST("/reading/:id/:action", c.readingAction)
	g.GET("/campaigns", c.campaignsPage)
	g.POST("/campaigns", c.createCampaign)
	g.GET("/campaigns/:slug", c.campaignPage)
	g.POST("/campaigns/:slug", c.campaignPost)
	g.POST("/campaigns/:slug/image", c.campaignImagePost)
	g.GET("/areas", c.areasPage)
	g.POST("/areas", c.areasPost)
	g.GET("/targets", c.targetsPage)
	g.POST("/targets", c.addTarget)
	g.GET("/targets/:id", c.targetPage)
	g.POST("/targets/:id", c.editTarget)
	g.POST("/targets/:id/:action", c.targetAction)
	g.GET("/letter", c.letterPage)
	g.POST("/letter", c.letterPost)
	g.GET("/messages", c.messagesPage)
	g.GET("/messages.csv", c.messagesCSV)
	g.GET("/supporters.csv", c.supportersCSV)
	g.GET("/messages/:id", c.messagePage)
	g.POST("/messages/:id/:action", c.messageAction)
	g.GET("/supporters", c.supportersPage)
	g.POST("/supporters/export", c.supporterExport)
	g.POST("/supporters/erase", c.supporterErase)
	g.GET("/webhooks", c.webhooksPage)
	g.POST("/webhooks", c.createWebhook)
	g.POST("/webhooks/:id/:action", c.webhookAction)
}

var funcs = template.FuncMap{
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return ""
	},
	"statuses":    func() []string { return statuses },
	"status":      func() sendlog.Names { return sendlog.Name },
	"args":        func(v ...any) []any { return v },
	"mul100":      func(f float64) float64 { return f * 100 },
	"statusLabel": statusLabel,
	"dryRunID":    dryRunID,
	"duration": func(secs *float64) string {
		if secs == nil {
			return "cannot be estimated"
		}
		d := time.Duration(*secs * float64(time.Second)).Round(time.Minute)
		if d < time.Minute {
			return "under a minute"
		}
		return d.String()
	},
}
