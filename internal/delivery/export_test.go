package delivery

import (
	"context"
	"encoding/json"
	"time"
)

// SetClock replaces the sender's clock (tests with simulated time).
func SetClock(s *Sender, now func() time.Time) { s.now = now }

// Step is one turn of the sender's loop without its goroutines and timers,
// for tests that run on a simulated clock: it renews the lease, claims what
// the cap allows, sends each claimed message in turn and records the
// outcomes. It returns how many messages it claimed.
func Step(ctx context.Context, s *Sender) (int, error) {
	s.renew(ctx)
	msgs, err := s.q.Claim(ctx, s.opt.BatchSize, s.targetRoom)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	s.noteClaimed(msgs)
	outs := make([]Outcome, 0, len(msgs))
	for _, m := range msgs {
		o := s.send(ctx, job{m: m})
		o.Digest = m.DigestID != 0
		s.finished(m.TargetID)
		outs = append(outs, o)
	}
	return len(msgs), s.q.Finish(ctx, outs)
}

// RequestBytes is the size of the JSON request the SendGrid mailer would
// send for m (issue 24: a digest's bound is counted as the JSON sent).
func RequestBytes(m Message) int {
	b, err := json.Marshal(NewSendGrid(SendGridConfig{APIKey: "k", FromEmail: "campaign@outcry.example", FromName: "outcry"}).buildMail(m))
	if err != nil {
		panic(err)
	}
	return len(b)
}
