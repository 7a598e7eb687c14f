package target

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newFileRegistry(t *testing.T) (*Registry, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	return r, path
}

func TestSaveWritesAtomicallyKeepsBackupAndTakesEffect(t *testing.T) {
	r, path := newFileRegistry(t)
	ts := append([]Target(nil), r.Current().All...)
	ts = append(ts, Target{ID: "bela-bajaria", Name: "Bela Bajaria", Title: "CCO", Email: "bela@example.com", Salutation: "Ms. Bajaria", Active: true})
	if err := r.Save(ts); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Current().ByID("bela-bajaria"); !ok {
		t.Fatal("saved target not in force")
	}
	bak, err := os.ReadFile(path + ".bak")
	if err != nil || string(bak) != good {
		t.Fatalf("backup = %q, %v", bak, err)
	}
	onDisk, err := Load(path)
	if err != nil || len(onDisk) != 3 || onDisk[2].ID != "bela-bajaria" {
		t.Fatalf("file = %+v, %v", onDisk, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode changed to %v", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestSaveRefusesInvalidAndKeepsList(t *testing.T) {
	r, path := newFileRegistry(t)
	before := r.Current()
	bad := append([]Target(nil), before.All...)
	bad = append(bad, Target{ID: "Bad Id", Name: "x", Title: "x", Email: "not-an-email", Salutation: "x", Active: true})
	err := r.Save(bad)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 || ps[0].Line == 0 {
		t.Fatalf("err = %v, want problems with lines", err)
	}
	if r.Current() != before {
		t.Fatal("list changed after a refused save")
	}
	data, _ := os.ReadFile(path)
	if string(data) != good {
		t.Fatal("file changed after a refused save")
	}
	if _, err := os.Stat(path + ".bak"); !os.IsNotExist(err) {
		t.Fatal("backup written for a refused save")
	}
}

func TestWatchPicksUpHandEditAndRefusesInvalid(t *testing.T) {
	r, path := newFileRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloads := make(chan error, 16)
	if err := r.Watch(ctx, WatchOptions{Interval: 20 * time.Millisecond, Debounce: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnReload: func(err error) { reloads <- err }}); err != nil {
		t.Fatal(err)
	}
	next := func() error {
		t.Helper()
		select {
		case err := <-reloads:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("watcher did not reload")
			return nil
		}
	}
	// A valid hand edit: Greg Peters becomes active.
	if err := os.WriteFile(path, []byte(strings.Replace(good, "active: false", "active: true", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := next(); err != nil {
		t.Fatalf("valid edit refused: %v", err)
	}
	if n := len(r.Current().Active()); n != 2 {
		t.Fatalf("active = %d after edit, want 2", n)
	}
	// An invalid edit (an editor's write-then-rename) is refused with its line.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(good+"  - id: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	err := next()
	var ps Problems
	if !errors.As(err, &ps) || ps[0].Line == 0 {
		t.Fatalf("invalid edit: err = %v, want problems with a line", err)
	}
	if n := len(r.Current().Active()); n != 2 {
		t.Fatalf("previous list not kept: %d active", n)
	}
}

// TestWatchIgnoresWritesBeside checks that the database's writes beside
// targets.yaml cost the watcher nothing: thousands of writes to a file in
// the same folder cause no reload and no extra look at the file (it looks
// on its own clock, not when the folder changes), and an edit of the file
// itself is still picked up.
func TestWatchIgnoresWritesBeside(t *testing.T) {
	r, path := newFileRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloads := make(chan error, 16)
	const interval = 50 * time.Millisecond
	if err := r.Watch(ctx, WatchOptions{Interval: interval, Debounce: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnReload: func(err error) { reloads <- err }}); err != nil {
		t.Fatal(err)
	}
	wal, err := os.OpenFile(filepath.Join(filepath.Dir(path), "outcry.db-wal"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer wal.Close()
	start := time.Now()
	polls := r.polls.Load()
	for range 5000 {
		if _, err := wal.Write(make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
	}
	wal.Sync()
	elapsed := time.Since(start)
	// Allow for the ticks the writing took, plus scheduling slack.
	if got, most := r.polls.Load()-polls, int64(elapsed/interval)+2; got > most {
		t.Fatalf("the watcher looked %d times during %v of writes beside the file, want at most %d (one per interval)", got, elapsed, most)
	}
	select {
	case err := <-reloads:
		t.Fatalf("writes beside the file reloaded it (%v)", err)
	case <-time.After(3 * interval):
	}
	if err := os.WriteFile(path, []byte(strings.Replace(good, "active: false", "active: true", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-reloads:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an edit of the file was not picked up")
	}
}
