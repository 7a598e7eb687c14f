package web

import (
	"testing"
	"time"
)

func TestClientLimits(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	l := newClientLimits(10.0/60, 3, 3*time.Minute) // 10 a minute, a burst of 3
	l.now = func() time.Time { return now }
	allow := func(client string) bool {
		t.Helper()
		ok, err := l.Allow(client)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 3 {
		if !allow("10.0.0.1") {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if allow("10.0.0.1") {
		t.Fatal("a fourth request at once allowed past a burst of 3")
	}
	if !allow("10.0.0.2") {
		t.Fatal("another client shares the first one's bucket")
	}
	now = now.Add(5 * time.Second) // less than one token (6 s)
	if allow("10.0.0.1") {
		t.Fatal("allowed before a token was back")
	}
	now = now.Add(1500 * time.Millisecond)
	if !allow("10.0.0.1") {
		t.Fatal("refused once a token was back")
	}

	// A client seen just before the maps turn over keeps its (empty)
	// bucket across the turn: forgetting never hands out a fresh burst
	// within a period of the last request.
	turn := l.rotated.Add(3 * time.Minute)
	now = turn.Add(-time.Second)
	for allow("10.0.0.3") {
	}
	now = turn.Add(time.Second) // the maps turn over here
	if allow("10.0.0.3") {
		t.Fatal("a client's empty bucket was forgotten at the turn of the period")
	}
	if len(l.prev) == 0 || l.rotated != now {
		t.Fatal("the maps did not turn over after a period")
	}
	// Two periods later, the clients not seen since are gone whole.
	now = now.Add(3 * time.Minute)
	allow("10.0.0.4")
	now = now.Add(3 * time.Minute)
	allow("10.0.0.4")
	if n := len(l.cur) + len(l.prev); n != 1 {
		t.Fatalf("%d clients remembered after two periods, want 1", n)
	}
}
