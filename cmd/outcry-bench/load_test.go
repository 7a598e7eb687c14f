package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// runLoad sends valid, unique JSON letters, counts every non-2xx answer as
// an error and stops at the deadline.
func TestRunLoadCountsErrorsAndUniqueLetters(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	dups, n := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Email         string `json:"email"`
			AcceptPrivacy bool   `json:"accept_privacy"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !body.AcceptPrivacy || !strings.HasSuffix(body.Email, "@example.org") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		n++
		if seen[body.Email] {
			dups++
		}
		seen[body.Email] = true
		fail := n%4 == 0
		mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	start := time.Now()
	r := runLoad(context.Background(), srv.URL, 4, 0, 300*time.Millisecond)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("load ran %s, want it bounded by its duration", el)
	}
	mu.Lock()
	defer mu.Unlock()
	if r.Requests == 0 || r.Requests != int64(n) {
		t.Fatalf("counted %d requests, server saw %d", r.Requests, n)
	}
	if dups != 0 {
		t.Fatalf("%d repeated addresses", dups)
	}
	if want := int64(n / 4); r.Errors != want {
		t.Fatalf("errors = %d, want %d (every 4th answer was 500)", r.Errors, want)
	}
	if r.P50ms <= 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms {
		t.Fatalf("percentiles out of order: %+v", r)
	}
}
