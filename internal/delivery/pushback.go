package delivery

import (
	"context"
	"maps"

	"github.com/outcry/outcry/internal/pushback"
)

// Back-off when a receiving server pushes back (issue 28 §4): a target
// whose emails get "deferred" events or 4xx soft bounces has its hourly
// allowance halved, down to 1, and climbs back an hour at a time without
// them (package pushback says exactly how). The steps are taken in the
// database (Options.Pushback), so a restart or another instance taking
// over goes on from where it was; the sender reads each target's level at
// every renewal and counts its sliding-hour window against the reduced
// allowance, exactly as against the cap.

// allowance is the target's hourly allowance now: the cap, halved for
// each back-off level in force. Call with s.mu held.
func (s *Sender) allowance(target string) int {
	return pushback.Allowance(s.opt.HourlyCap, s.levels[target])
}

// stepPushback has the back-off's due steps taken and puts the levels in
// force; a failure keeps the levels in force and is logged.
func (s *Sender) stepPushback(ctx context.Context) {
	if s.opt.Pushback == nil || s.opt.HourlyCap <= 0 {
		return
	}
	levels, steps, err := s.opt.Pushback(ctx, s.opt.HourlyCap, s.now())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sender: back-off steps not taken; the allowances in force stay", "err", err)
		}
		return
	}
	for _, st := range steps {
		switch st.Kind {
		case pushback.Down:
			s.log.Warn("sender: a target's receiving server pushes back: its hourly allowance is halved",
				"target", st.Target, "allowance", st.Allowance, "cap", s.opt.HourlyCap, "reason", st.Reason)
		case pushback.Up:
			s.log.Info("sender: an hour without push-back: a target's hourly allowance climbs back",
				"target", st.Target, "allowance", st.Allowance, "cap", s.opt.HourlyCap)
		case pushback.Flag:
			s.log.Warn("sender: a target's receiving server kept pushing back for a day at 1 email an hour: flagged for the organizer, sending to it stops",
				"target", st.Target, "reason", st.Reason)
		}
	}
	s.mu.Lock()
	s.levels = maps.Clone(levels)
	s.mu.Unlock()
}
