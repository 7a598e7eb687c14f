package delivery_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
)

// claimSizes records how many messages each claim asked for.
type claimSizes struct {
	delivery.Queue
	mu     sync.Mutex
	limits []int
}

func (q *claimSizes) Claim(ctx context.Context, limit int, room func(string) delivery.Room) ([]delivery.Message, error) {
	q.mu.Lock()
	q.limits = append(q.limits, limit)
	q.mu.Unlock()
	return q.Queue.Claim(ctx, limit, room)
}

func (q *claimSizes) take() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.limits
	q.limits = nil
	return out
}

// While letters are in the sign path the sender claims small batches (the
// sign path first, issue 29); once none is, it claims full batches again
// and drains what piled up.
func TestSenderYieldsToTheSignPath(t *testing.T) {
	st := newStore(t)
	queue(t, st, 100, "t1", "t2", "t3") // 300 messages
	var busy atomic.Bool
	busy.Store(true)
	q := &claimSizes{Queue: newOutbox(t, st)}
	run(t, delivery.NewSender(q, delivery.NewDryRun(nil), delivery.Options{PollInterval: 10 * time.Millisecond, SignBusy: busy.Load}))
	waitFor(t, "300 messages sent while letters arrive", func() bool { return counts(t, st)["sent"] == 300 })
	for _, n := range q.take() {
		if n > delivery.YieldBatch {
			t.Fatalf("a claim of %d messages while letters were in the sign path, want at most %d", n, delivery.YieldBatch)
		}
	}
	busy.Store(false)
	queueAs(t, st, "later", 200, "t1", "t2", "t3") // 600 more
	waitFor(t, "900 messages sent", func() bool { return counts(t, st)["sent"] == 900 })
	most := 0
	for _, n := range q.take() {
		most = max(most, n)
	}
	if most <= delivery.YieldBatch {
		t.Fatalf("largest claim with no letter in the sign path: %d, want full batches (more than %d)", most, delivery.YieldBatch)
	}
}
