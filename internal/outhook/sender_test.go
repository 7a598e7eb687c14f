package outhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
)

// received is one request a receiver got.
type received struct {
	Headers map[string]string
	Body    string
	Code    int // what the receiver answered
}

// receiver is a real HTTP server on loopback that records every request
// and answers with answer(n), n counting the requests to it from 1.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) int
	more   chan struct{}
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := &receiver{answer: answer, more: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := http.StatusNoContent
		if r.answer != nil {
			code = r.answer(len(r.got) + 1)
		}
		h := map[string]string{}
		for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"} {
			h[k] = req.Header.Get(k)
		}
		r.got = append(r.got, received{Headers: h, Body: string(body), Code: code})
		r.mu.Unlock()
		w.WriteHeader(code)
		r.more <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// wait waits for n more requests (at most 30 s: a bound, not a timing).
func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.more:
		case <-time.After(30 * time.Second):
			t.Fatalf("the receiver got %d requests; waited for more", len(r.all()))
		}
	}
}

// testStore opens a fresh store (PostgreSQL when OUTCRY_TEST_STORE=postgres).
func testStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fast is a schedule short enough for a test: the attempts follow each
// other as soon as the sender looks again.
var fast = []time.Duration{0, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond}

// run starts a sender until the returned stop is called.
func run(t *testing.T, st *store.Store, opt Options) (stop func()) {
	t.Helper()
	if opt.Schedule == nil {
		opt.Schedule = fast
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Poll == 0 {
		opt.Poll = 5 * time.Millisecond
	}
	s := NewSender(st, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func endpoint(t *testing.T, st *store.Store, url string, personal bool, events ...hookevent.Type) store.WebhookEndpoint {
	t.Helper()
	svc := &Service{Store: st, Insecure: true, Campaign: func(string) bool { return true }}
	evs := make([]string, len(events))
	for i, e := range events {
		evs[i] = string(e)
	}
	e, err := svc.Create(context.Background(), Input{URL: &url, Events: &evs, PersonalData: &personal})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func writeLetter(t *testing.T, st *store.Store, email string) int64 {
	t.Helper()
	id, created, err := st.WriteLetter(context.Background(), store.NewSupporter{Campaign: "demo", Email: email, FirstName: "Ada", LastName: "Lovelace",
		Postcode: "N1 9GU", ConsentUpdates: true, Subject: "s", Body: "b", Source: "newsletter"}, []string{"t1", "t2"})
	if err != nil || !created {
		t.Fatalf("write letter: %v %v", created, err)
	}
	return id
}

type hookBody struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

func parse(t *testing.T, s string) hookBody {
	t.Helper()
	var b hookBody
	if err := json.Unmarshal([]byte(s), &b); err != nil {
		t.Fatalf("body %q: %v", s, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, b.Timestamp); err != nil {
		t.Fatalf("timestamp %q: %v", b.Timestamp, err)
	}
	return b
}

func deliveries(t *testing.T, st *store.Store, endpoint int64) []store.WebhookDeliveryRow {
	t.Helper()
	ds, err := st.WebhookDeliveries(context.Background(), endpoint, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// A receiver that answers 500 three times and then 200 gets each event
// once answered 2xx, with one webhook-id across the attempts, each attempt
// signed for its own timestamp.
func TestRetriesUntilAccepted(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	rcv := newReceiver(t, func(n int) int {
		if n <= 3 {
			return 500
		}
		return 200
	})
	e := endpoint(t, st, rcv.URL+"/hook", true, hookevent.LetterCreated)
	writeLetter(t, st, "ada@example.org")
	run(t, st, Options{Insecure: true})
	rcv.wait(t, 4)
	got := rcv.all()
	if len(got) != 4 {
		t.Fatalf("got %d requests, want 4", len(got))
	}
	for i, g := range got {
		if g.Headers["webhook-id"] != got[0].Headers["webhook-id"] || !strings.HasPrefix(g.Headers["webhook-id"], "msg_") {
			t.Errorf("attempt %d: webhook-id %q, first %q", i+1, g.Headers["webhook-id"], got[0].Headers["webhook-id"])
		}
		if g.Body != got[0].Body {
			t.Errorf("attempt %d: body changed", i+1)
		}
		if err := Verify(e.Secret, g.Headers["webhook-id"], g.Headers["webhook-timestamp"], g.Headers["webhook-signature"], []byte(g.Body), time.Now(), 5*time.Minute); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
		if g.Headers["content-type"] != "application/json" {
			t.Errorf("content-type %q", g.Headers["content-type"])
		}
	}
	b := parse(t, got[0].Body)
	if b.Type != "letter.created" {
		t.Fatalf("type %q", b.Type)
	}
	var l hookevent.Letter
	json.Unmarshal(b.Data, &l)
	if l.Campaign != "demo" || l.Supporter.Email != "ada@example.org" || l.Supporter.FirstName != "Ada" || !l.Supporter.ConsentUpdates ||
		l.Source != "newsletter" || strings.Join(l.Targets, ",") != "t1,t2" {
		t.Fatalf("data %s", b.Data)
	}
	waitStatus(t, st, e.ID, store.HookSucceeded)
	ds := deliveries(t, st, e.ID)
	if len(ds) != 1 || ds[0].Attempts != 4 || ds[0].LastCode != 200 {
		t.Fatalf("deliveries %+v", ds)
	}
	as, err := st.WebhookAttempts(context.Background(), e.ID, 10)
	if err != nil || len(as) != 4 || as[0].Code != 200 || as[3].Code != 500 || as[3].Error == "" {
		t.Fatalf("attempts %+v %v", as, err)
	}
}

// waitStatus waits (bounded) until every delivery of the endpoint has status.
func waitStatus(t *testing.T, st *store.Store, endpoint int64, status string) {
	t.Helper()
	for range 3000 {
		ds := deliveries(t, st, endpoint)
		done := len(ds) > 0
		for _, d := range ds {
			done = done && d.Status == status
		}
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("deliveries not %s: %+v", status, deliveries(t, st, endpoint))
}

// A delivery that fails every attempt of the schedule is marked failed
// after the last one, and is not tried again.
func TestFailsAfterTheLastRetry(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	rcv := newReceiver(t, func(int) int { return 503 })
	e := endpoint(t, st, rcv.URL, false, hookevent.LetterCreated)
	writeLetter(t, st, "ada@example.org")
	stop := run(t, st, Options{Insecure: true, Schedule: fast[:3]})
	waitStatus(t, st, e.ID, store.HookFailed)
	stop()
	if n := len(rcv.all()); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	ep, _, _ := st.WebhookEndpoint(context.Background(), e.ID)
	if ep.FailingSince == nil || ep.DisabledAt != nil {
		t.Fatalf("endpoint %+v", ep)
	}
}

// A sender stopped in the middle of the retries loses nothing: another
// one, on the same database, finishes them, and each event arrives once
// with a 2xx answer.
func TestRestartMidRetriesLosesNothing(t *testing.T) {
	path := pgtest.DB(t, filepath.Join(t.TempDir(), "o.db"))
	st := testStore(t, path)
	var mu sync.Mutex
	healthy := false
	rcv := newReceiver(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			return 200
		}
		return 500
	})
	e := endpoint(t, st, rcv.URL, false, hookevent.LetterCreated, hookevent.SupporterErased)
	for i := range 5 {
		writeLetter(t, st, fmt.Sprintf("s%d@example.org", i))
	}
	// Long waits between attempts: the first sender makes the first
	// attempt of each and is stopped while they wait for the second.
	stop := run(t, st, Options{Insecure: true, Schedule: []time.Duration{0, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}})
	rcv.wait(t, 5)
	stop()
	st.Close()
	mu.Lock()
	healthy = true
	mu.Unlock()

	st2 := testStore(t, path)
	run(t, st2, Options{Insecure: true, Schedule: []time.Duration{0, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}})
	waitStatus(t, st2, e.ID, store.HookSucceeded)
	ok := map[string]int{}
	for _, g := range rcv.all() {
		if g.Code == 200 {
			ok[g.Headers["webhook-id"]]++
		}
	}
	if len(ok) != 5 {
		t.Fatalf("%d events accepted, want 5: %v", len(ok), ok)
	}
	for id, n := range ok {
		if n != 1 {
			t.Errorf("%s accepted %d times", id, n)
		}
	}
}

// Erasing a supporter sends supporter.erased; an endpoint without personal
// data never gets an email address or a name, in any event.
func TestErasedAndPersonalData(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	personal := newReceiver(t, nil)
	public := newReceiver(t, nil)
	all := []hookevent.Type{hookevent.LetterCreated, hookevent.SupporterErased}
	ep := endpoint(t, st, personal.URL, true, all...)
	eq := endpoint(t, st, public.URL, false, all...)
	id := writeLetter(t, st, "ada@example.org")
	if n, err := st.EraseSupporter(context.Background(), "ada@example.org", ""); err != nil || n != 1 {
		t.Fatalf("erase: %d %v", n, err)
	}
	run(t, st, Options{Insecure: true})
	waitStatus(t, st, eq.ID, store.HookSucceeded)
	waitStatus(t, st, ep.ID, store.HookSucceeded)

	// The public endpoint: both events, ids and consent only.
	types := map[string]hookBody{}
	for _, g := range public.all() {
		if strings.Contains(g.Body, "ada@example.org") || strings.Contains(g.Body, "Ada") || strings.Contains(g.Body, "Lovelace") || strings.Contains(g.Body, "N1 9GU") {
			t.Errorf("personal data sent to an endpoint not marked for it: %s", g.Body)
		}
		b := parse(t, g.Body)
		types[b.Type] = b
	}
	er, ok := types["supporter.erased"]
	if !ok || len(types) != 2 {
		t.Fatalf("public endpoint got %v", types)
	}
	var se hookevent.SupporterEvent
	json.Unmarshal(er.Data, &se)
	if se.Supporter.ID != id || !se.Supporter.ConsentUpdates || se.Campaign != "demo" {
		t.Fatalf("supporter.erased data %s", er.Data)
	}
	// The personal endpoint: the letter.created with personal data was
	// still pending at the erasure and is dropped; supporter.erased names
	// the address, so that the CRM can find whom to erase.
	got := personal.all()
	if len(got) != 1 {
		t.Fatalf("personal endpoint got %d deliveries: %+v", len(got), got)
	}
	b := parse(t, got[0].Body)
	json.Unmarshal(b.Data, &se)
	if b.Type != "supporter.erased" || se.Supporter.Email != "ada@example.org" || se.Supporter.ID != id {
		t.Fatalf("personal endpoint got %s", got[0].Body)
	}
	// Nothing personal stays in the deliveries once they are over.
	for _, e := range []int64{ep.ID, eq.ID} {
		for _, d := range deliveries(t, st, e) {
			if d.Status != store.HookSucceeded {
				t.Errorf("delivery %+v", d)
			}
		}
	}
}

// An endpoint gets only the event types it chose, and only of its campaign.
func TestOnlyChosenEvents(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	rcv := newReceiver(t, nil)
	e := endpoint(t, st, rcv.URL, false, hookevent.SupporterErased)
	other := "other"
	svc := &Service{Store: st, Insecure: true, Campaign: func(string) bool { return true }}
	if _, err := svc.Update(context.Background(), e.ID, Input{Campaign: &other}); err != nil {
		t.Fatal(err)
	}
	writeLetter(t, st, "ada@example.org")
	st.EraseSupporter(context.Background(), "ada@example.org", "")
	if ds := deliveries(t, st, e.ID); len(ds) != 0 {
		t.Fatalf("deliveries for events not chosen: %+v", ds)
	}
	demo := "demo"
	svc.Update(context.Background(), e.ID, Input{Campaign: &demo})
	writeLetter(t, st, "bob@example.org")
	st.EraseSupporter(context.Background(), "bob@example.org", "")
	if ds := deliveries(t, st, e.ID); len(ds) != 1 || ds[0].Type != "supporter.erased" {
		t.Fatalf("deliveries %+v", ds)
	}
}

// A redirect is not followed: the delivery fails, and the redirect's
// target gets nothing.
func TestRedirectNotFollowed(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	target := newReceiver(t, nil)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	e := endpoint(t, st, redirect.URL, false, hookevent.LetterCreated)
	writeLetter(t, st, "ada@example.org")
	stop := run(t, st, Options{Insecure: true, Schedule: fast[:1]})
	waitStatus(t, st, e.ID, store.HookFailed)
	stop()
	if n := len(target.all()); n != 0 {
		t.Fatalf("the redirect was followed: %d requests", n)
	}
	ds := deliveries(t, st, e.ID)
	if ds[0].LastCode != 307 || !strings.Contains(ds[0].LastError, "not followed") {
		t.Fatalf("delivery %+v", ds[0])
	}
}

// A receiver that never answers holds one delivery worker, never the sign
// path: letters are written while every worker waits on it.
func TestDeadEndpointNeverSlowsLetters(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	release := make(chan struct{})
	hung := make(chan struct{}, 100)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		<-release
	}))
	defer slow.Close()
	defer close(release)
	endpoint(t, st, slow.URL, false, hookevent.LetterCreated)
	writeLetter(t, st, "first@example.org")
	run(t, st, Options{Insecure: true, Workers: 1})
	<-hung // the only worker is now stuck on the dead endpoint
	for i := range 20 {
		writeLetter(t, st, fmt.Sprintf("s%d@example.org", i))
	}
	if n, err := st.SupporterCount(context.Background(), "demo"); err != nil || n != 21 {
		t.Fatalf("supporters %d %v", n, err)
	}
}

// Endpoints are disabled after 5 days in which every attempt failed, and a
// success in between starts the count again.
func TestDisabledAfterFiveDaysOfFailures(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	e := endpoint(t, st, "http://203.0.113.1/", false, hookevent.LetterCreated)
	writeLetter(t, st, "ada@example.org")
	ds := deliveries(t, st, e.ID)
	start := time.Now()
	fail := func(at time.Time, code int) bool {
		t.Helper()
		next := at.Add(time.Hour)
		a := store.WebhookAttempt{DeliveryID: ds[0].ID, EndpointID: e.ID, At: at, Code: code, DisableAfter: DisableAfter}
		if code != 200 {
			a.Error, a.Next = "answered 500", &next
		}
		disabled, err := st.FinishWebhookAttempt(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		return disabled
	}
	if fail(start, 500) || fail(start.Add(4*24*time.Hour), 500) {
		t.Fatal("disabled before 5 days")
	}
	fail(start.Add(4*24*time.Hour+time.Minute), 200) // a success: the count starts again
	if fail(start.Add(6*24*time.Hour), 500) || fail(start.Add(10*24*time.Hour), 500) {
		t.Fatal("disabled 4 days after the failures started again")
	}
	if !fail(start.Add(11*24*time.Hour+time.Minute), 500) {
		t.Fatal("not disabled after 5 days of failures")
	}
	ep, _, _ := st.WebhookEndpoint(context.Background(), e.ID)
	if ep.DisabledAt == nil || !strings.Contains(ep.DisabledWhy, "5 days") {
		t.Fatalf("endpoint %+v", ep)
	}
	// A disabled endpoint gets no new deliveries.
	writeLetter(t, st, "bob@example.org")
	if n := len(deliveries(t, st, e.ID)); n != 1 {
		t.Fatalf("%d deliveries for a disabled endpoint", n)
	}
}
