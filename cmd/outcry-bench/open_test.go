package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The open loop sends every arrival without waiting for earlier answers:
// the server holds every request until all of them have arrived, which a
// generator that waits for answers would never reach (the server then
// lets them all go after 10 s and the test fails on the count seen by then).
func TestRunOpenDoesNotWaitForAnswers(t *testing.T) {
	const n = 40
	var mu sync.Mutex
	seen := map[string]bool{}
	allIn := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(allIn) }) }
	giveUp := time.AfterFunc(10*time.Second, release)
	defer giveUp.Stop()
	arrivedBeforeRelease := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Email string `json:"email"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		if seen[body.Email] {
			mu.Unlock()
			w.WriteHeader(http.StatusConflict)
			return
		}
		seen[body.Email] = true
		select {
		case <-allIn:
		default:
			arrivedBeforeRelease++
		}
		if len(seen) == n {
			release()
		}
		mu.Unlock()
		<-allIn
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	r := runOpen(context.Background(), srv.URL, openConfig{rate: 400, duration: n * time.Second / 400, window: time.Second, maxInFlight: 100, timeout: 30 * time.Second})
	mu.Lock()
	defer mu.Unlock()
	if arrivedBeforeRelease != n {
		t.Fatalf("only %d of %d letters arrived before any was answered: the generator waited for answers", arrivedBeforeRelease, n)
	}
	if r.Offered != n || r.Accepted != n || r.AcceptedPct != 100 || r.MaxInFlight < 2 {
		t.Fatalf("offered %d accepted %d (%.1f %%), most in flight %d; want %d, all, several in flight", r.Offered, r.Accepted, r.AcceptedPct, r.MaxInFlight, n)
	}
	if len(r.Windows) != 1 || r.Windows[0].Offered != n {
		t.Fatalf("windows %+v, want one of %d", r.Windows, n)
	}
}

// Each outcome is counted as what it is: a 2xx is accepted, another status
// is refused, no answer within the client timeout is a timeout; arrivals
// beyond the in-flight cap are not sent. Latencies land in the window of
// their arrival.
func TestRunOpenClassifiesOutcomes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Email string `json:"email"`
		}
		// Read the whole body: only then does the server notice the
		// client closing the connection (and cancel r.Context()).
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		// bench-<run>-0-<i>@example.org
		local, _, _ := strings.Cut(body.Email, "@")
		i, _ := strconv.Atoi(local[strings.LastIndex(local, "-")+1:])
		switch i % 4 {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			<-r.Context().Done() // hang until the client gives up
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()

	r := runOpen(context.Background(), srv.URL, openConfig{rate: 200, duration: 200 * time.Millisecond, window: 100 * time.Millisecond, maxInFlight: 1000, timeout: 300 * time.Millisecond})
	if r.Offered != 40 || r.Accepted != 20 || r.Refused != 10 || r.Timeouts != 10 || r.Errors != 0 || r.Capped != 0 {
		t.Fatalf("got %+v; want 40 offered: 20 accepted, 10 refused, 10 timeouts", r)
	}
	if r.AcceptedPct != 50 || r.MaxMs < 300 || r.P50ms > r.P99ms || r.P99ms > r.MaxMs {
		t.Fatalf("accepted %.1f %%, p50 %.1f p99 %.1f max %.1f ms; want 50 %%, a timeout's latency as the max", r.AcceptedPct, r.P50ms, r.P99ms, r.MaxMs)
	}
	if len(r.Windows) != 2 || r.Windows[0].Offered != 20 || r.Windows[1].Offered != 20 || r.Windows[0].Accepted != 10 {
		t.Fatalf("windows %+v; want two of 20 arrivals, 10 accepted each", r.Windows)
	}

	// With at most 3 in flight and every request hanging, the rest are not sent.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer hang.Close()
	r = runOpen(context.Background(), hang.URL, openConfig{rate: 1000, duration: 20 * time.Millisecond, window: time.Second, maxInFlight: 3, timeout: 3 * time.Second})
	if r.Offered != 20 || r.Capped != 17 || r.Timeouts != 3 || r.Accepted != 0 || r.MaxInFlight != 3 {
		t.Fatalf("got %+v; want 20 offered, 3 sent (timed out), 17 not sent", r)
	}
}
