package delivery_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	outcry "github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/sgfake"
)

// BenchmarkDrain sends queued messages through the real SendGrid mailer to
// the fake on loopback, with no rate limit and no cap, until every one is
// recorded sent (one op = one message from queued to sent).
func BenchmarkDrain(b *testing.B) { benchDrain(b, nil) }

// BenchmarkDrainOverflow is BenchmarkDrain with the delivery policy the
// app uses by default (overflow): its per-claim reading of the queue heads
// must not slow the drain.
func BenchmarkDrainOverflow(b *testing.B) {
	dr, err := outbox.NewDigestRenderer(outcry.Templates(""))
	if err != nil {
		b.Fatal(err)
	}
	benchDrain(b, &outbox.Policy{Mode: delivery.Overflow, After: time.Hour, Max: 500, Digests: dr,
		Campaign: func(string) (outbox.CampaignInfo, bool) { return outbox.CampaignInfo{}, false }})
}

func benchDrain(b *testing.B, p *outbox.Policy) {
	st := newStore(b)
	fake := sgfake.New()
	defer fake.Close()
	fake.SetRecord(false)
	n := max(b.N/4, 1)
	queueAs(b, st, "d", n, "t1", "t2", "t3", "t4")
	ob := newOutbox(b, st)
	ob.Delivery = p
	s := delivery.NewSender(ob, delivery.NewSendGrid(delivery.SendGridConfig{
		APIKey: "SG.bench", BaseURL: fake.URL(), FromEmail: "campaign@outcry.example", FromName: "Bench",
	}), delivery.Options{PollInterval: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Minute)
	// Watch the sender's counter (cheap), then the database.
	for s.Stats().Sent < int64(4*n) || counts(b, st)["sent"] < 4*n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d sent", counts(b, st)["sent"], 4*n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
}
