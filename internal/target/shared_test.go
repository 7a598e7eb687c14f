package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
)

// An instance is a Registry with its own targets.yaml on a database that
// other instances share; its log is kept for the tests to read.
type instance struct {
	*Registry
	file string
	log  *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sharedDB opens a store on a new database file; each call of open with the
// returned path is another instance's connection to it.
func sharedDB(t *testing.T) (path string, open func() *store.Store) {
	t.Helper()
	path = pgtest.DB(t, filepath.Join(t.TempDir(), "shared.db"))
	return path, func() *store.Store {
		st, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// startInstance writes content (unless it is "") to a targets.yaml of its
// own and starts a shared registry on it.
func startInstance(t *testing.T, st *store.Store, content string) (*instance, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "targets.yaml")
	if content != "" {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := &lockedBuffer{}
	r, err := NewShared(context.Background(), file, st, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		return nil, err
	}
	return &instance{Registry: r, file: file, log: log}, nil
}

func mustStart(t *testing.T, st *store.Store, content string) *instance {
	t.Helper()
	in, err := startInstance(t, st, content)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func (in *instance) fileText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(in.file)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func latest(t *testing.T, st *store.Store) store.TargetList {
	t.Helper()
	l, ok, err := st.LatestTargetList(context.Background())
	if err != nil || !ok {
		t.Fatalf("latest list: %v, %v", ok, err)
	}
	return l
}

func addTarget(id string) func([]Target) ([]Target, error) {
	return func(all []Target) ([]Target, error) {
		return append(all, Target{ID: id, Name: "N " + id, Title: "T", Email: id + "@example.com", Salutation: "S", Active: true}), nil
	}
}

func has(r *Registry, id string) bool {
	_, ok := r.Current().ByID(id)
	return ok
}

// edited is good with Greg Peters active: a text that was never in force.
var edited = strings.Replace(good, "active: false", "active: true", 1)

// TestSharedConsoleSaveReachesOtherInstance: a save on one instance is in
// force on the other at its next look at the database, and written to that
// instance's own file, keeping the comments of the shared text.
func TestSharedConsoleSaveReachesOtherInstance(t *testing.T) {
	_, open := sharedDB(t)
	a := mustStart(t, open(), good)
	stB := open()
	b := mustStart(t, stB, good)
	if a.Version() != 1 || b.Version() != 1 {
		t.Fatalf("versions %d and %d at start, want the seed, 1", a.Version(), b.Version())
	}
	if err := a.Update(addTarget("bela-bajaria")); err != nil {
		t.Fatal(err)
	}
	if !has(a.Registry, "bela-bajaria") || !strings.Contains(a.fileText(t), "bela-bajaria") {
		t.Fatal("the save is not in force on its own instance, or not in its file")
	}
	if has(b.Registry, "bela-bajaria") {
		t.Fatal("in force on the other instance before it looked at the database")
	}
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !has(b.Registry, "bela-bajaria") || b.Version() != 2 {
		t.Fatalf("after its refresh the other instance has version %d without the new target", b.Version())
	}
	if got := b.fileText(t); got != a.fileText(t) || !strings.HasPrefix(got, "# comment\n") {
		t.Fatalf("the other instance's file does not show the list in force:\n%s", got)
	}
	if bak, _ := os.ReadFile(b.file + ".bak"); string(bak) != good {
		t.Fatalf("the other instance's previous file was not kept as .bak: %q", bak)
	}
	// Its own write is not taken for a hand edit.
	if err := b.Reload(); err != nil || latest(t, stB).Version != 2 {
		t.Fatalf("the file written by the refresh was imported back: %v, version %d", err, latest(t, stB).Version)
	}
}

// TestSharedStaleFileIsReplacedAtStart: a machine that was down while the
// list changed starts with an old version in its file: the shared list
// wins, the file is rewritten, and a warning says so.
func TestSharedStaleFileIsReplacedAtStart(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	if err := a.Update(addTarget("bela-bajaria")); err != nil {
		t.Fatal(err)
	}
	b := mustStart(t, open(), good) // version 1's text
	if !has(b.Registry, "bela-bajaria") || b.Version() != 2 {
		t.Fatalf("the stale file was kept in force (version %d)", b.Version())
	}
	if b.fileText(t) != a.fileText(t) {
		t.Fatalf("the stale file was not rewritten:\n%s", b.fileText(t))
	}
	if l := latest(t, st); l.Version != 2 {
		t.Fatalf("the stale file made version %d", l.Version)
	}
	if !strings.Contains(b.log.String(), "holds an old version") {
		t.Fatalf("no warning about the stale file:\n%s", b.log)
	}
}

// TestSharedEditWhileStoppedIsImportedAtStart: a file edited by hand while
// outcry was stopped (a text never in force) becomes the next version, in
// force on every instance, and says so loudly; an invalid one is refused.
func TestSharedEditWhileStoppedIsImportedAtStart(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	if _, err := startInstance(t, open(), good+"  - id: [\n"); err == nil {
		t.Fatal("an invalid file was accepted at start")
	} else if ps := (Problems{}); !errors.As(err, &ps) {
		t.Fatalf("invalid file at start: %v, want the problems with their lines", err)
	}
	if l := latest(t, st); l.Version != 1 {
		t.Fatalf("the invalid file made version %d", l.Version)
	}
	b := mustStart(t, open(), edited)
	if n := len(b.Current().Active()); n != 2 || b.Version() != 2 {
		t.Fatalf("the edit is not in force: %d active, version %d", n, b.Version())
	}
	if l := latest(t, st); l.Version != 2 || l.YAML != edited || !strings.HasPrefix(l.Origin, "file ") {
		t.Fatalf("the edit was not imported: %+v", l)
	}
	if !strings.Contains(b.log.String(), "targets.yaml on this machine was edited: imported as version 2, now in force on every instance") {
		t.Fatalf("the import was not logged:\n%s", b.log)
	}
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Current().Active()); n != 2 || a.fileText(t) != edited {
		t.Fatalf("the other instance did not take the edit: %d active", n)
	}
}

// TestSharedMissingFileIsWritten: a machine with no targets.yaml (a new
// disk) gets the shared list, not the other way round.
func TestSharedMissingFileIsWritten(t *testing.T) {
	_, open := sharedDB(t)
	a := mustStart(t, open(), good)
	if err := a.Update(addTarget("bela-bajaria")); err != nil {
		t.Fatal(err)
	}
	b := mustStart(t, open(), "")
	if !has(b.Registry, "bela-bajaria") || b.fileText(t) != a.fileText(t) {
		t.Fatal("the missing file was not written with the shared list")
	}
	// With no list anywhere, there is nothing to start with.
	_, open2 := sharedDB(t)
	if _, err := startInstance(t, open2(), ""); err == nil {
		t.Fatal("started with neither a file nor a shared list")
	}
}

// TestSharedHandEditOnRunningInstance: an edit of the file on a running
// instance (what its watcher reloads) becomes the next version and reaches
// the other instance; an invalid one is refused and the list stays.
func TestSharedHandEditOnRunningInstance(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	b := mustStart(t, open(), good)
	if err := os.WriteFile(a.file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if l := latest(t, st); l.Version != 2 || l.YAML != edited {
		t.Fatalf("the hand edit was not imported: version %d", l.Version)
	}
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(b.Current().Active()); n != 2 || b.fileText(t) != edited {
		t.Fatalf("the hand edit did not reach the other instance: %d active", n)
	}
	// Looking at the files again imports nothing more.
	for _, in := range []*instance{a, b} {
		if err := in.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if v := latest(t, st).Version; v != 2 {
		t.Fatalf("a file showing the list in force was imported again: version %d", v)
	}
	// Undoing the edit on purpose (the .bak copied back) is an edit too.
	if err := os.WriteFile(b.file, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(); err != nil {
		t.Fatal(err)
	}
	if l := latest(t, st); l.Version != 3 || l.YAML != good {
		t.Fatalf("the undo was not imported: version %d", l.Version)
	}
	before := b.Current()
	if err := os.WriteFile(b.file, []byte(good+"  - id: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ps Problems
	if err := b.Reload(); !errors.As(err, &ps) {
		t.Fatalf("invalid edit: %v, want its problems", err)
	}
	if b.Current() != before || latest(t, st).Version != 3 {
		t.Fatal("an invalid edit changed the list")
	}
}

// TestSharedRefreshLeavesPendingEdit: when a new version arrives while the
// file holds an edit the watcher has not imported yet, the file is not
// overwritten; the edit is then imported on top of the new version.
func TestSharedRefreshLeavesPendingEdit(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	b := mustStart(t, open(), good)
	if err := a.Update(addTarget("bela-bajaria")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !has(b.Registry, "bela-bajaria") || b.fileText(t) != edited {
		t.Fatal("the refresh overwrote an edit not imported yet")
	}
	if err := b.Reload(); err != nil {
		t.Fatal(err)
	}
	if l := latest(t, st); l.Version != 3 || l.YAML != edited || !strings.Contains(b.log.String(), "replaces=2") {
		t.Fatalf("the edit was not imported on top of version 2, logged: version %d\n%s", l.Version, b.log)
	}
}

// TestSharedFileWrittenByAnotherInstance: two instances that share one
// file (one machine, or a network disk): a newer version that the other
// instance wrote there is taken from the database, never saved again (that
// would undo a version made since).
func TestSharedFileWrittenByAnotherInstance(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	b, err := NewShared(context.Background(), a.file, open(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Update(addTarget("one")); err != nil {
		t.Fatal(err)
	}
	v2 := a.fileText(t)
	if err := a.Update(addTarget("two")); err != nil {
		t.Fatal(err)
	}
	// b, still at version 1, sees the file as a writes it: version 2's text.
	if err := os.WriteFile(a.file, []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(); err != nil {
		t.Fatal(err)
	}
	if l := latest(t, st); l.Version != 3 || !has(b, "two") {
		t.Fatalf("version 2's text, written by the other instance, was saved again: version %d", l.Version)
	}
}

// TestSharedConcurrentUpdatesAllLand: two organizers on two instances edit
// at once; every edit lands (a save that meets another's re-reads the
// list and applies its edit again).
func TestSharedConcurrentUpdatesAllLand(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	b := mustStart(t, open(), good)
	const each = 8
	var wg sync.WaitGroup
	for i, in := range []*instance{a, b} {
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := in.Update(addTarget(fmt.Sprintf("added-%d-%d", i, j))); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	for _, in := range []*instance{a, b} {
		if err := in.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(in.Current().All); n != 2+2*each {
			t.Fatalf("%d targets after %d additions to 2 on two instances", n, 2*each)
		}
	}
	if v := latest(t, st).Version; v != 1+2*each {
		t.Fatalf("version %d after %d saves on the seed", v, 2*each)
	}
}

// TestSharedWatchCarriesEditsAcross runs both instances' watchers: a hand
// edit on one is in force on the other and in its file, and then nothing
// more is saved (neither imports the file it wrote itself).
func TestSharedWatchCarriesEditsAcross(t *testing.T) {
	_, open := sharedDB(t)
	st := open()
	a := mustStart(t, st, good)
	b := mustStart(t, open(), good)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, in := range []*instance{a, b} {
		if err := in.Watch(ctx, WatchOptions{Interval: 10 * time.Millisecond, Debounce: 10 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(a.file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the hand edit on a in force on b and in its file", func() bool {
		data, _ := os.ReadFile(b.file)
		return len(b.Current().Active()) == 2 && string(data) == edited
	})
	// Let each watcher look at its file and the database a few more times.
	pa, pb := a.polls.Load(), b.polls.Load()
	waitUntil(t, "more looks", func() bool { return a.polls.Load() > pa+5 && b.polls.Load() > pb+5 })
	if v := latest(t, st).Version; v != 2 {
		t.Fatalf("version %d after one edit: a written file was imported back", v)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
