package delivery_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/store"
)

// These tests run the sender with the real SendGrid mailer (sendgrid-go)
// against a fake SendGrid on loopback, with the real store.

func newFake(t *testing.T) *sgfake.Server {
	t.Helper()
	f := sgfake.New()
	t.Cleanup(f.Close)
	return f
}

func sendgridSender(t testing.TB, st *store.Store, fake *sgfake.Server, opt delivery.Options) *delivery.Sender {
	if opt.PollInterval == 0 {
		opt.PollInterval = 5 * time.Millisecond
	}
	m := delivery.NewSendGrid(delivery.SendGridConfig{
		APIKey: "SG.test", BaseURL: fake.URL(), FromEmail: "campaign@outcry.example", FromName: "Stop Baby",
		Timeout: 30 * time.Second, // generous: a timeout would add a retry to the counts below
	})
	return delivery.NewSender(newOutbox(t, st), m, opt)
}

func TestSendGridEndToEnd(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	queue(t, st, 3, "t1", "t2")
	run(t, sendgridSender(t, st, fake, delivery.Options{}))
	waitFor(t, "6 sent", func() bool { return counts(t, st)["sent"] == 6 })
	reqs := fake.Requests()
	if len(reqs) != 6 {
		t.Fatalf("fake received %d requests, want 6 (each message once)", len(reqs))
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		m := r.Mail
		if m.From.Email != "campaign@outcry.example" || m.From.Name[len(m.From.Name)-len(" via Stop Baby"):] != " via Stop Baby" {
			t.Errorf("from = %+v", m.From)
		}
		if len(m.Personalizations) != 1 || len(m.Personalizations[0].To) != 1 {
			t.Fatalf("personalizations = %+v", m.Personalizations)
		}
		to := m.Personalizations[0].To[0].Email
		if m.ReplyTo.Email == "" || m.ReplyTo.Email == to {
			t.Errorf("reply_to = %+v", m.ReplyTo)
		}
		if len(m.CustomArgs) != 1 || m.CustomArgs["outcry_id"] == "" || len(m.Categories) != 1 || m.Categories[0] != "c" {
			t.Errorf("provider metadata must be only the opaque id and the campaign: %v %v", m.CustomArgs, m.Categories)
		}
		seen[m.CustomArgs["outcry_id"]+to] = true
	}
	if len(seen) != 6 {
		t.Fatalf("duplicate sends: %d distinct of 6", len(seen))
	}
}

func TestSendGrid429SlowsTheWholeSender(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	reset := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	fake.Script(sgfake.Response{Status: 429, Header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)}})
	queue(t, st, 4, "t1")
	run(t, sendgridSender(t, st, fake, delivery.Options{Workers: 1}))
	waitFor(t, "4 sent", func() bool { return counts(t, st)["sent"] == 4 })
	reqs := fake.Requests()
	if len(reqs) != 5 {
		t.Fatalf("requests = %d, want 1 refused + 4 sent", len(reqs))
	}
	for _, r := range reqs[1:] {
		if r.At.Before(reset) {
			t.Fatalf("a send at %v came before the provider's reset time %v", r.At, reset)
		}
	}
}

func TestSendGridOutageDelaysNeverDrops(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	fake.SetDefault(sgfake.Response{Status: 503})
	queue(t, st, 2, "t1")
	run(t, sendgridSender(t, st, fake, delivery.Options{MaxAttempts: 100, BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond}))
	waitFor(t, "several failed attempts", func() bool { return fake.Count() >= 6 })
	if c := counts(t, st); c["failed"] != 0 || c["sent"] != 0 {
		t.Fatalf("during the outage: %v", c)
	}
	fake.SetDefault(sgfake.Response{Status: 202})
	waitFor(t, "both sent after the outage", func() bool { return counts(t, st)["sent"] == 2 })
}

func TestSendGridPermanentAndAuthErrors(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	fake.Script(sgfake.Response{Status: 400, Body: sgfake.ErrorBody("The to email does not contain a valid address.", "personalizations.0.to")})
	queue(t, st, 1, "t1")
	s := sendgridSender(t, st, fake, delivery.Options{Workers: 1})
	run(t, s)
	waitFor(t, "failed", func() bool { return counts(t, st)["failed"] == 1 })
	m, err := st.Message(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	status, lastErr, attempts := m.Status, m.LastError, m.Attempts
	if want := "The to email does not contain a valid address."; status != "failed" || attempts != 1 || !strings.Contains(lastErr, want) {
		t.Fatalf("message 1: %s after %d attempts, last_error %q; want failed at once with SendGrid's message", status, attempts, lastErr)
	}

	fake.SetDefault(sgfake.Response{Status: 401, Body: sgfake.ErrorBody("The provided authorization grant is invalid", "")})
	queueAs(t, st, "x", 3, "t1")
	s.Notify()
	waitFor(t, "paused with every message back in the queue", func() bool {
		p, _ := s.Paused()
		return p && counts(t, st)["queued"] == 3
	})
	n := fake.Count()
	time.Sleep(100 * time.Millisecond)
	if fake.Count() != n || counts(t, st)["queued"] != 3 {
		t.Fatalf("after a 401 the sender kept going (%d→%d requests) or lost messages: %v", n, fake.Count(), counts(t, st))
	}
	fake.SetDefault(sgfake.Response{Status: 202})
	s.Resume()
	waitFor(t, "sent after resume", func() bool { return counts(t, st)["sent"] == 3 })
}

func TestSendGridRateAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s; -short")
	}
	st := newStore(t)
	fake := newFake(t)
	queue(t, st, 60, "t1")
	const limit = 20
	run(t, sendgridSender(t, st, fake, delivery.Options{Workers: 16, Rate: limit}))
	waitFor(t, "60 sent", func() bool { return counts(t, st)["sent"] == 60 })
	reqs := fake.Requests()
	span := reqs[len(reqs)-1].At.Sub(reqs[0].At).Seconds()
	if achieved := float64(len(reqs)-1) / span; achieved > limit*1.05 {
		t.Fatalf("achieved %.2f/s over %.2fs with a limit of %d/s", achieved, span, limit)
	}
	for sec, n := range fake.PerSecond() {
		if n > limit+1 {
			t.Fatalf("%d sends in second %d, limit %d plus a burst of 1", n, sec, limit)
		}
	}
}

// After a 429, no request reaches SendGrid before its X-RateLimit-Reset,
// including from workers that were already waiting for the rate limiter's
// slot when the 429 came back (issue 13: they went ahead at the next slot).
// A request already on its way when the 429 is answered cannot be called
// back; so that none is, the rate spaces requests 250 ms apart, far more
// than a loopback answer takes even on a busy machine, and a first accepted
// request opens the connection before the 429.
func TestSendGrid429HoldsWaitingWorkers(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	reset := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	fake.Script(sgfake.Response{}, sgfake.Response{Status: 429, Header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)}})
	queue(t, st, 5, "t1")
	run(t, sendgridSender(t, st, fake, delivery.Options{Workers: 8, Rate: 4}))
	waitFor(t, "5 sent", func() bool { return counts(t, st)["sent"] == 5 })
	reqs := fake.Requests()
	if len(reqs) != 6 {
		t.Fatalf("requests = %d, want 1 sent, 1 refused, then 4 sent", len(reqs))
	}
	for i, r := range reqs[2:] {
		if r.At.Before(reset) {
			t.Fatalf("request %d reached SendGrid %v after the 429, %v before its reset", i+3, r.At.Sub(reqs[1].At).Round(time.Millisecond), reset.Sub(r.At).Round(time.Millisecond))
		}
	}
}

// After a 401, no further request reaches SendGrid, including from workers
// that were waiting for the rate limiter's slot when the 401 came back (the
// rate and the first accepted request as in the 429 test above).
func TestSendGrid401StopsWaitingWorkers(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	fake.Script(sgfake.Response{})
	fake.SetDefault(sgfake.Response{Status: 401, Body: sgfake.ErrorBody("The provided authorization grant is invalid", "")})
	queue(t, st, 5, "t1")
	s := sendgridSender(t, st, fake, delivery.Options{Workers: 8, Rate: 4})
	run(t, s)
	waitFor(t, "paused with every other message back in the queue", func() bool {
		p, _ := s.Paused()
		return p && counts(t, st)["queued"] == 4 && s.Stats().InFlight == 0
	})
	if n := fake.Count(); n != 2 {
		t.Fatalf("SendGrid received %d requests, want 2 (one accepted, one refused): sending went on after the provider refused our credentials", n)
	}
}

// A reset that makes no sense (here in milliseconds: the year 58888) does
// not hold sending for ever: the sender backs off as when no reset is given,
// and the message goes out.
func TestSendGridNonsenseResetIsNotBelieved(t *testing.T) {
	st := newStore(t)
	fake := newFake(t)
	fake.Script(sgfake.Response{Status: 429, Header: map[string]string{"X-RateLimit-Reset": "1796185077000"}})
	queue(t, st, 1, "t1")
	run(t, sendgridSender(t, st, fake, delivery.Options{Workers: 1, BackoffBase: 10 * time.Millisecond}))
	waitFor(t, "sent after a short back-off", func() bool { return counts(t, st)["sent"] == 1 })
	if n := fake.Count(); n != 2 {
		t.Fatalf("requests = %d, want 1 refused + 1 sent", n)
	}
}
