package filewatch

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestPollCallsChangedOncePerSettledChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(path, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ticks, changes atomic.Int64
	go f.Poll(ctx, Options{Interval: 10 * time.Millisecond, Debounce: 30 * time.Millisecond},
		func() { ticks.Add(1) }, func() { changes.Add(1) })
	waitFor(t, func() bool { return ticks.Load() >= 5 })
	if n := changes.Load(); n != 0 {
		t.Fatalf("%d changes of a file nobody touched", n)
	}
	// An editor's save by rename: a new file with new content.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte("bb"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return changes.Load() == 1 })
	seen := ticks.Load()
	waitFor(t, func() bool { return ticks.Load() >= seen+5 })
	if n := changes.Load(); n != 1 {
		t.Fatalf("%d changes after one save, want 1", n)
	}
	// Removed: not a change; back again: a change.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	seen = ticks.Load()
	waitFor(t, func() bool { return ticks.Load() >= seen+5 })
	if n := changes.Load(); n != 1 {
		t.Fatalf("a missing file counted as a change (%d)", n)
	}
	if err := os.WriteFile(path, []byte("ccc"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return changes.Load() == 2 })
}

func TestAFileMissingAtFirstCountsWhenItAppears(t *testing.T) {
	path := filepath.Join(t.TempDir(), "areas.csv")
	f, err := Stat(path)
	if err == nil {
		t.Fatal("Stat of a missing file gave no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var changes atomic.Int64
	go f.Poll(ctx, Options{Interval: 10 * time.Millisecond, Debounce: 20 * time.Millisecond}, nil, func() { changes.Add(1) })
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return changes.Load() == 1 })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("not within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
