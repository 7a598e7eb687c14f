package delivery

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Workers waiting for the rate never hold more than one slot in advance
// between them: the limiter's tokens never fall below -1 (each slot reserved
// ahead lowers them by one; Wait from 16 workers at once would reach -15,
// and those slots would all fire together after a pause).
func TestPaceHoldsOneSlotAhead(t *testing.T) {
	s := NewSender(nil, nil, Options{Rate: 200})
	var wg sync.WaitGroup
	var done atomic.Bool
	lowest := 1.0
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for !done.Load() {
			if tk := s.limiter.Tokens(); tk < lowest {
				lowest = tk
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if err := s.pace(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	<-sampled
	if lowest < -1.01 {
		t.Fatalf("tokens fell to %.2f: slots were reserved ahead by several workers", lowest)
	}
}

// Without a rate, pace never waits.
func TestPaceUnlimited(t *testing.T) {
	s := NewSender(nil, nil, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.pace(ctx); err != nil {
		t.Fatalf("pace without a rate = %v", err)
	}
}
