package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
)

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkCreateLetter is the sign transaction: a supporter and four
// messages, committed (one op = one letter).
func BenchmarkCreateLetter(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	m := msgs("t1", "t2", "t3", "t4")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		created, err := s.CreateLetter(ctx, sup(fmt.Sprintf("bench-%d@example.org", i)), m)
		if err != nil || !created {
			b.Fatal(created, err)
		}
	}
}

// BenchmarkClaimFinish claims a batch of 256 messages and records them sent
// (one op = one batch).
func BenchmarkClaimFinish(b *testing.B) {
	const batch = 256
	s := openBench(b)
	ctx := context.Background()
	m := msgs("t1", "t2", "t3", "t4")
	fill := func(n, from int) {
		for i := range n / len(m) {
			if _, err := s.CreateLetter(ctx, sup(fmt.Sprintf("claim-%d@example.org", from+i)), m); err != nil {
				b.Fatal(err)
			}
		}
	}
	next := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fill(batch, next)
		next += batch
		b.StartTimer()
		claimed, err := s.Claim(ctx, batch, time.Minute, nil)
		if err != nil || len(claimed) != batch {
			b.Fatal(len(claimed), err)
		}
		out := make([]delivery.Outcome, len(claimed))
		for i, c := range claimed {
			out[i] = delivery.Outcome{ID: c.ID, Status: "sent", Attempted: true, ProviderID: "bench-" + c.PublicID}
		}
		if err := s.Finish(ctx, out); err != nil {
			b.Fatal(err)
		}
	}
}
