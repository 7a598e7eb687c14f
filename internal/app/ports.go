package app

import (
	"github.com/outcry/outcry/internal/admin"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/metrics"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/receipt"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/update"
	"github.com/outcry/outcry/internal/web"
)

// The store satisfies every port its consumers declare. Each consumer
// names, in its own package, only the methods it calls; this list, the one
// place that imports them all, breaks the build when the store and a port
// drift apart (on SQLite and PostgreSQL alike: both are *store.Store).
var (
	_ campaign.Store     = (*store.Store)(nil)
	_ metrics.Store      = (*store.Store)(nil)
	_ metrics.Pushback   = (*store.Store)(nil)
	_ letter.SignStore   = (*store.Store)(nil)
	_ outbox.OutboxStore = (*store.Store)(nil)
	_ outbox.MailStore   = (*store.Store)(nil)
	_ confirm.Store      = (*store.Store)(nil)
	_ receipt.Store      = (*store.Store)(nil)
	_ privacy.Store      = (*store.Store)(nil)
	_ update.Store       = (*store.Store)(nil)

	// web.Store is the union of the public site's ports.
	_ web.Store            = (*store.Store)(nil)
	_ web.Health           = (*store.Store)(nil)
	_ web.SupporterCounter = (*store.Store)(nil)
	_ web.WebhookEvents    = (*store.Store)(nil)

	// admin.Store is the union of the console pages' ports.
	_ admin.Store        = (*store.Store)(nil)
	_ admin.Sessions     = (*store.Store)(nil)
	_ admin.Figures      = (*store.Store)(nil)
	_ admin.TargetsState = (*store.Store)(nil)
	_ admin.SendLog      = (*store.Store)(nil)
	_ admin.DigestLog    = (*store.Store)(nil)
	_ admin.Supporters   = (*store.Store)(nil)
	_ admin.SendingPause = (*store.Store)(nil)
)
