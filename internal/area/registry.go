package area

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/internal/filewatch"
)

// Registry holds the areas file in force and swaps in a new one only when
// it is valid. Current never blocks: the sign path reads a pointer.
type Registry struct {
	path string
	cur  atomic.Pointer[Index]
	mu   sync.Mutex // one reload at a time
	// lastErr is the last refused reload ("" when the file in force is the file on disk).
	lastErr atomic.Pointer[string]
}

// Open loads path; an invalid file is an error. An empty path gives a
// registry with no file (Current is nil): area matching then finds nobody.
func Open(path string) (*Registry, error) {
	r := &Registry{path: path}
	if path == "" {
		return r, nil
	}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// NewStatic serves a fixed index (tests and tools).
func NewStatic(ix *Index) *Registry {
	r := &Registry{}
	r.cur.Store(ix)
	return r
}

// Path is the file the registry reads ("" for none).
func (r *Registry) Path() string { return r.path }

// Current is the index in force, nil without a file.
func (r *Registry) Current() *Index {
	if r == nil {
		return nil
	}
	return r.cur.Load()
}

// LastError is why the last reload was refused ("" when it was not).
func (r *Registry) LastError() string {
	if p := r.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}

// Reload reads the file now; on any problem the index in force stays.
func (r *Registry) Reload() error {
	if r.path == "" {
		return errors.New("areas: no file (OUTCRY_AREAS is not set)")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ix, err := Load(r.path)
	if err != nil {
		msg := err.Error()
		r.lastErr.Store(&msg)
		return err
	}
	r.lastErr.Store(nil)
	r.cur.Store(ix)
	return nil
}

// WatchOptions tune Watch.
type WatchOptions struct {
	Interval time.Duration // default 1s
	Debounce time.Duration // default 200ms
	Logger   *slog.Logger
	OnReload func(error) // after each reload attempt (tests)
}

// Watch reloads the file whenever it changes (internal/filewatch), until
// ctx ends. A file with a bad line is refused, its line logged, and the
// index in force stays.
func (r *Registry) Watch(ctx context.Context, opt WatchOptions) error {
	if r.path == "" {
		return nil
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	f, _ := filewatch.Stat(r.path)
	go f.Poll(ctx, filewatch.Options{Interval: opt.Interval, Debounce: opt.Debounce}, nil, func() {
		err := r.Reload()
		if err != nil {
			opt.Logger.Error("areas file changed but is invalid; the previous areas stay in force", "err", err)
		} else {
			ix := r.Current()
			opt.Logger.Info("areas file changed: reloaded", "rows", ix.Version.Rows, "keys", ix.Keys(), "areas", len(ix.Areas()),
				"version", ix.Version.String())
		}
		if opt.OnReload != nil {
			opt.OnReload(err)
		}
	})
	return nil
}
