package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// offerOverload keeps, for each arrival, the address its letter carried
// and how it was answered: the run's check that every 202 is in the
// database depends on both.
func TestOfferOverloadKeepsAddressAndAnswer(t *testing.T) {
	var mu sync.Mutex
	answered := map[string]int{}
	retry := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Email string `json:"email"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		n := len(answered)
		status := http.StatusAccepted
		switch {
		case n%3 == 1:
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "3")
			retry[body.Email] = true
		case n%3 == 2:
			status = http.StatusServiceUnavailable // without Retry-After
		}
		answered[body.Email] = status
		mu.Unlock()
		w.WriteHeader(status)
	}))
	defer srv.Close()
	arrivals, _ := offerOverload(context.Background(), srv.URL, 200, 100*time.Millisecond, 100, 5*time.Second)
	if len(arrivals) != 20 {
		t.Fatalf("%d arrivals, want 20", len(arrivals))
	}
	for _, a := range arrivals {
		want, ok := answered[a.email]
		if !ok {
			t.Fatalf("arrival with address %s: the server saw no such letter", a.email)
		}
		if a.status != want {
			t.Fatalf("%s: kept %d, the server answered %d", a.email, a.status, want)
		}
		if a.retryAfter != retry[a.email] {
			t.Fatalf("%s: Retry-After kept as %v, the server sent it: %v", a.email, a.retryAfter, retry[a.email])
		}
	}
}
