package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	outcry "github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/testkit"
)

func newStore(t testing.TB) *store.Store {
	t.Helper()
	return testkit.Store(t)
}

// queue stores n supporters, each writing to the given targets.
func queue(t *testing.T, s *store.Store, n int, targets ...string) {
	t.Helper()
	queueAs(t, s, "s", n, targets...)
}

// queueAs is queue with supporters' addresses starting with prefix.
func queueAs(t testing.TB, s *store.Store, prefix string, n int, targets ...string) {
	t.Helper()
	for i := range n {
		if _, _, err := s.WriteLetter(context.Background(), store.NewSupporter{
			Campaign: "c", Email: fmt.Sprintf("%s%d@example.org", prefix, i), FirstName: "S", LastName: fmt.Sprint(i),
			Subject: "s", Body: "b",
		}, targets); err != nil {
			t.Fatal(err)
		}
	}
}

// testTargets are the targets the tests queue for, as targets.yaml would
// list them.
var testTargets = func() *target.Registry {
	var ts []target.Target
	for _, id := range []string{"t1", "t2", "t3", "t4", "capped", "free"} {
		ts = append(ts, target.Target{ID: id, Name: "Name " + id, Title: "Title", Email: id + "@example.com", Salutation: "Dear " + id, Active: true})
	}
	// 20 targets at one receiving domain (the domain cap's tests).
	for i := range 20 {
		id := fmt.Sprintf("p%d", i+1)
		ts = append(ts, target.Target{ID: id, Name: "Name " + id, Title: "Title", Email: id + "@Parliament.Example", Salutation: "Dear " + id, Active: true})
	}
	return target.NewStatic(ts)
}()

// newOutbox is the sender's queue over st, rendering with the real letter template.
func newOutbox(t testing.TB, st *store.Store) *outbox.Outbox {
	t.Helper()
	r, err := letter.NewRenderer(outcry.Templates(""))
	if err != nil {
		t.Fatal(err)
	}
	return outbox.NewOutbox(st, testTargets, r)
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func counts(t testing.TB, s *store.Store) map[string]int {
	t.Helper()
	c, err := s.StatusCounts(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t *testing.T, s *delivery.Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func TestDryRunDrainsTheQueue(t *testing.T) {
	st := newStore(t)
	queue(t, st, 25, "t1", "t2", "t3", "t4")
	dry := delivery.NewDryRun(nil)
	stop := run(t, delivery.NewSender(newOutbox(t, st), dry, delivery.Options{PollInterval: 10 * time.Millisecond}))
	waitFor(t, "100 messages sent", func() bool { return counts(t, st)["sent"] == 100 })
	stop()
	if dry.Count() != 100 {
		t.Fatalf("dry-run recorded %d, want 100", dry.Count())
	}
}

// scripted is a Mailer that answers from a function and records calls.
type scripted struct {
	mu    sync.Mutex
	calls []delivery.Message
	at    []time.Time
	fn    func(n int, m delivery.Message) (string, error)
}

func (s *scripted) Name() string { return "scripted" }
func (s *scripted) Send(_ context.Context, m delivery.Message) (string, error) {
	s.mu.Lock()
	n := len(s.calls)
	s.calls = append(s.calls, m)
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	return s.fn(n, m)
}
func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func TestSenderReactsToEachErrorKind(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus string
		paused     bool
	}{
		{"permanent fails at once", &delivery.SendError{Kind: delivery.Permanent, Status: 400, Msg: "bad to"}, "failed", false},
		{"temporary fails after max attempts", &delivery.SendError{Kind: delivery.Temporary, Status: 500, Msg: "oops"}, "failed", false},
		{"unauthorized pauses and keeps the message queued", &delivery.SendError{Kind: delivery.Unauthorized, Status: 401, Msg: "bad key"}, "queued", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			queue(t, st, 1, "t1")
			m := &scripted{fn: func(int, delivery.Message) (string, error) { return "", tt.err }}
			s := delivery.NewSender(newOutbox(t, st), m, delivery.Options{MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, PollInterval: 5 * time.Millisecond})
			stop := run(t, s)
			waitFor(t, "the message to settle", func() bool {
				c := counts(t, st)
				if tt.paused {
					p, _ := s.Paused()
					return p && c["queued"] == 1
				}
				return c[tt.wantStatus] == 1
			})
			stop()
			if tt.name == "temporary fails after max attempts" && m.count() != 3 {
				t.Fatalf("attempts = %d, want 3", m.count())
			}
			if tt.paused && m.count() != 1 {
				t.Fatalf("a paused sender kept sending: %d calls", m.count())
			}
		})
	}
}

func TestSenderRetriesThenSends(t *testing.T) {
	st := newStore(t)
	queue(t, st, 1, "t1")
	m := &scripted{fn: func(n int, _ delivery.Message) (string, error) {
		if n < 2 {
			return "", &delivery.SendError{Kind: delivery.Temporary, Status: 503, Msg: "busy"}
		}
		return "pid", nil
	}}
	stop := run(t, delivery.NewSender(newOutbox(t, st), m, delivery.Options{BackoffBase: time.Millisecond, PollInterval: 5 * time.Millisecond}))
	waitFor(t, "sent after two retries", func() bool { return counts(t, st)["sent"] == 1 })
	stop()
	if m.count() != 3 {
		t.Fatalf("calls = %d, want 3", m.count())
	}
}

func TestPauseAndResume(t *testing.T) {
	st := newStore(t)
	m := &scripted{fn: func(int, delivery.Message) (string, error) { return "pid", nil }}
	s := delivery.NewSender(newOutbox(t, st), m, delivery.Options{PollInterval: 5 * time.Millisecond})
	s.Pause("organizer")
	stop := run(t, s)
	defer stop()
	queue(t, st, 3, "t1")
	s.Notify()
	time.Sleep(100 * time.Millisecond)
	if m.count() != 0 || counts(t, st)["queued"] != 3 {
		t.Fatalf("paused sender sent %d", m.count())
	}
	s.Resume()
	waitFor(t, "sent after resume", func() bool { return counts(t, st)["sent"] == 3 })
}

func TestHourlyCapDelaysOnlyThatTarget(t *testing.T) {
	st := newStore(t)
	queueAs(t, st, "a", 3, "capped", "free")
	queueAs(t, st, "b", 4, "capped")
	m := &scripted{fn: func(int, delivery.Message) (string, error) { return "pid", nil }}
	s := delivery.NewSender(newOutbox(t, st), m, delivery.Options{HourlyCap: 3, NoSpread: true, PollInterval: 5 * time.Millisecond})
	stop := run(t, s)
	waitFor(t, "3 to each target", func() bool { return counts(t, st)["sent"] == 6 })
	time.Sleep(50 * time.Millisecond)
	stop()
	c := counts(t, st)
	if c["sent"] != 6 || c["queued"] != 4 {
		t.Fatalf("counts = %v, want 6 sent and the capped target's other 4 still queued", c)
	}
	perTarget := map[string]int{}
	for _, call := range m.calls {
		perTarget[call.TargetID]++
	}
	if perTarget["capped"] != 3 || perTarget["free"] != 3 {
		t.Fatalf("sends per target = %v", perTarget)
	}
	// The capped target's messages were never claimed: none was sent back
	// and forth while the cap held.
	if got := len(m.calls); got != 6 {
		t.Fatalf("%d sends, want 6", got)
	}
}

func TestRestartAfterCrashLosesNothing(t *testing.T) {
	st := newStore(t)
	queue(t, st, 10, "t1")
	// A sender claims a batch and dies before recording anything.
	dead := newOutbox(t, st)
	if _, err := dead.Renew(context.Background(), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	claimed, err := dead.Claim(context.Background(), 6, func(string) delivery.Room { return delivery.Room{Slots: 6} })
	if err != nil || len(claimed) != 6 {
		t.Fatalf("claimed %d (%v)", len(claimed), err)
	}
	time.Sleep(60 * time.Millisecond) // the crashed sender's lease runs out
	m := &scripted{fn: func(int, delivery.Message) (string, error) { return "pid", nil }}
	stop := run(t, delivery.NewSender(newOutbox(t, st), m, delivery.Options{PollInterval: 5 * time.Millisecond}))
	waitFor(t, "all 10 sent after restart", func() bool { return counts(t, st)["sent"] == 10 })
	stop()
	if m.count() != 10 {
		t.Fatalf("sends = %d, want 10 (each once)", m.count())
	}
}

func TestRateLimitIsShared(t *testing.T) {
	st := newStore(t)
	queue(t, st, 30, "t1")
	m := &scripted{fn: func(int, delivery.Message) (string, error) { return "pid", nil }}
	const rate = 40.0
	s := delivery.NewSender(newOutbox(t, st), m, delivery.Options{Workers: 16, Rate: rate, PollInterval: 5 * time.Millisecond})
	stop := run(t, s)
	waitFor(t, "30 sent", func() bool { return counts(t, st)["sent"] == 30 })
	stop()
	m.mu.Lock()
	span := m.at[len(m.at)-1].Sub(m.at[0]).Seconds()
	m.mu.Unlock()
	// 30 sends with a burst of one take at least 29 intervals of 1/rate,
	// however many workers there are: the achieved rate cannot exceed it.
	achieved := 29 / span
	if achieved > rate*1.05 {
		t.Fatalf("achieved %.1f/s with a limit of %.0f/s", achieved, rate)
	}
}
