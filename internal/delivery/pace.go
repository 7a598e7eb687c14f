package delivery

import "context"

// pace waits for the rate limiter's next slot. Only one worker waits at a
// time: rate.Limiter.Wait hands each caller its own future slot at once, so
// with every worker waiting, a process paused by the machine for a moment
// wakes with all those slots due and sends them together (the benchmark saw
// 57 sends in one second at a limit of 50). One waiter at a time holds at
// most one slot; the bucket's burst of one adds at most one more. The next
// worker takes its slot as soon as the previous one has its own, so the
// average rate is unchanged.
func (s *Sender) pace(ctx context.Context) error {
	if s.opt.Rate <= 0 {
		return nil
	}
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	return s.limiter.Wait(ctx)
}
