package app

import (
	"log/slog"

	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/golive"
	"github.com/outcry/outcry/internal/target"
)

// warnGoLive logs, at WARN, every reason the configuration cannot be the
// live one although SENDGRID_API_KEY is set (placeholder targets or sender,
// a base URL supporters cannot reach), each naming what to set. The
// console shows the same on every page.
func warnGoLive(cfg config.Config, targets *target.Registry, log *slog.Logger) {
	blocking := false
	for _, p := range golive.Problems(cfg, targets.Current().All) {
		log.Warn("NOT READY FOR LIVE SENDING: "+p.Message, "code", p.Code, "blocking", p.Blocking)
		blocking = blocking || p.Blocking
	}
	if blocking && cfg.Readiness != "warn" {
		log.Warn("live sending is HELD until the blocking problems above are fixed; letters queue meanwhile (OUTCRY_READINESS=warn only warns)")
	}
}
