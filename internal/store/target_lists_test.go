package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func TestTargetListVersions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.LatestTargetList(ctx); err != nil || ok {
		t.Fatalf("empty database: ok=%v err=%v, want no list", ok, err)
	}
	if v, err := s.LatestTargetListVersion(ctx); err != nil || v != 0 {
		t.Fatalf("empty database: version %d, %v; want 0", v, err)
	}
	v, err := s.SaveTargetList(ctx, 0, "targets: []\n", "h1", "seed file a:/t.yaml")
	if err != nil || v != 1 {
		t.Fatalf("first save: %d, %v", v, err)
	}
	// A save based on no list, or on a version that is no longer the latest, changes nothing.
	var conflict *TargetListConflict
	if _, err := s.SaveTargetList(ctx, 0, "x", "hx", "console b"); !errors.As(err, &conflict) || conflict.Expected != 0 {
		t.Fatalf("save on version 0 after version 1: %v, want a conflict", err)
	}
	if v, err = s.SaveTargetList(ctx, 1, "targets: [a]\n", "h2", "console b"); err != nil || v != 2 {
		t.Fatalf("second save: %d, %v", v, err)
	}
	if _, err := s.SaveTargetList(ctx, 1, "y", "hy", "console c"); !errors.As(err, &conflict) {
		t.Fatalf("save on version 1 after version 2: %v, want a conflict", err)
	}
	if v, err := s.LatestTargetListVersion(ctx); err != nil || v != 2 {
		t.Fatalf("latest version = %d, %v; want 2", v, err)
	}
	l, ok, err := s.LatestTargetList(ctx)
	if err != nil || !ok || l.Version != 2 || l.YAML != "targets: [a]\n" || l.Hash != "h2" || l.Origin != "console b" || l.SavedAt.IsZero() {
		t.Fatalf("latest = %+v, %v, %v", l, ok, err)
	}
	for hash, want := range map[string]int64{"h1": 1, "h2": 2} {
		if v, ok, err := s.TargetListVersionHash(ctx, hash); err != nil || !ok || v != want {
			t.Errorf("version of %s = %d, %v, %v; want %d", hash, v, ok, err, want)
		}
	}
	if _, ok, err := s.TargetListVersionHash(ctx, "hx"); err != nil || ok {
		t.Errorf("a refused save's hash is known: %v, %v", ok, err)
	}
}

// TestTargetListKeepsLastHundred checks that old versions are pruned, and
// that a save based on a pruned version is still refused (the key of the
// version after it no longer stands in its way).
func TestTargetListKeepsLastHundred(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for v := int64(0); v < 150; v++ {
		if _, err := s.SaveTargetList(ctx, v, "l", fmt.Sprintf("h%d", v+1), "console"); err != nil {
			t.Fatal(err)
		}
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM target_lists`); n != keptTargetLists {
		t.Fatalf("%d versions kept, want %d", n, keptTargetLists)
	}
	if _, ok, _ := s.TargetListVersionHash(ctx, "h50"); ok {
		t.Fatal("version 50 of 150 still kept")
	}
	if v, ok, _ := s.TargetListVersionHash(ctx, "h51"); !ok || v != 51 {
		t.Fatalf("version 51 of 150: %d, %v; want kept", v, ok)
	}
	var conflict *TargetListConflict
	if _, err := s.SaveTargetList(ctx, 10, "stale", "hs", "console"); !errors.As(err, &conflict) {
		t.Fatalf("save based on pruned version 10: %v, want a conflict", err)
	}
}

// TestTargetListConcurrentSaves has two stores on one database file (two
// instances) each try to make the next version many times at once: every
// version is made exactly once, and each attempt either made it or got a
// conflict.
func TestTargetListConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	const rounds = 30
	var made [2]int
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, _, err := s.LatestTargetList(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = s.SaveTargetList(ctx, l.Version, fmt.Sprintf("from %d", i), fmt.Sprintf("h%d", i), fmt.Sprintf("store %d", i))
				var conflict *TargetListConflict
				switch {
				case err == nil:
					made[i]++
				case !errors.As(err, &conflict):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l, _, err := stores[0].LatestTargetList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if total := int64(made[0] + made[1]); l.Version != total || total == 0 {
		t.Fatalf("latest version %d after %d and %d successful saves", l.Version, made[0], made[1])
	}
}
