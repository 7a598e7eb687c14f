package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSplitConns(t *testing.T) {
	for _, c := range []struct {
		conns, n int
		want     []int
	}{
		{64, 1, []int{64}}, {64, 2, []int{32, 32}}, {65, 2, []int{33, 32}}, {1, 2, []int{1, 1}}, {7, 3, []int{3, 2, 2}},
	} {
		if got := splitConns(c.conns, c.n); !slices.Equal(got, c.want) {
			t.Errorf("splitConns(%d, %d) = %v, want %v", c.conns, c.n, got, c.want)
		}
	}
}

// Two instances measured side by side: requests/s is their sum, not their
// average (the time is the longer run's, not both added).
func TestMergeConcurrentSumsRates(t *testing.T) {
	a := loadRaw{lat: make([]time.Duration, 100), errors: 1, elapsed: time.Second}
	b := loadRaw{lat: make([]time.Duration, 300), errors: 2, elapsed: time.Second}
	m := mergeConcurrent([]loadRaw{a, b}).summary()
	if m.Requests != 400 || m.Errors != 3 || m.RPS != 397 {
		t.Fatalf("merged: %+v; want 400 requests, 3 errors, 397/s", m)
	}
}

// The open loop against two instances deals the arrivals to both in turn.
func TestRunOpenToDealsArrivals(t *testing.T) {
	var n [2]atomic.Int64
	var srv [2]*httptest.Server
	for i := range srv {
		srv[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			n[i].Add(1)
			w.WriteHeader(http.StatusAccepted)
		}))
		defer srv[i].Close()
	}
	r := runOpenTo(context.Background(), []string{srv[0].URL, srv[1].URL},
		openConfig{rate: 200, duration: 500 * time.Millisecond, maxInFlight: 100, timeout: 5 * time.Second})
	if r.Offered != 100 || r.Accepted != 100 || n[0].Load() != 50 || n[1].Load() != 50 {
		t.Fatalf("offered %d, accepted %d, instance 1 got %d, instance 2 got %d; want 100, 100, 50, 50",
			r.Offered, r.Accepted, n[0].Load(), n[1].Load())
	}
}

// Without a PostgreSQL server the section says so in one line of the
// table and starts nothing.
func TestByDatabaseSkippedWithoutServer(t *testing.T) {
	var log strings.Builder
	logf := func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }
	res, err := measureByDatabase(context.Background(), options{}, t.TempDir(), "/nonexistent/outcry", logf)
	if err != nil || res.Skipped == "" || len(res.Runs) != 0 {
		t.Fatalf("without -pg: %+v, %v; want skipped", res, err)
	}
	if log.Len() != 0 {
		t.Fatalf("log: %q; want nothing (the table says it)", log.String())
	}
	var out strings.Builder
	printByDatabase(&out, res, 2)
	if !strings.Contains(out.String(), "skipped") || strings.Count(strings.TrimSpace(out.String()), "\n") != 0 {
		t.Fatalf("table: %q; want one line saying skipped", out.String())
	}
}
