package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/internal/filewatch"
)

// WatchOptions tune Watch.
type WatchOptions struct {
	// Interval is how often the file is looked at. Default 1s.
	Interval time.Duration
	// Debounce is how long the file must stay unchanged before it is
	// reloaded (editors write in several steps). Default 200ms.
	Debounce time.Duration
	Logger   *slog.Logger
	// OnReload, when set, is called after each reload attempt with its result.
	OnReload func(error)
}

// Watch reloads the registry's file whenever it changes on disk, until ctx
// ends. With a shared database it also looks at the database on each tick
// (Refresh): a version saved by another instance is put in force and
// written to the file, and an edit of the file is imported as the next
// version (Reload). It polls the file (internal/filewatch). An
// invalid edit is refused with its line logged, and the previous list stays
// in force.
func (r *Registry) Watch(ctx context.Context, opt WatchOptions) error {
	if r.path == "" {
		return fmt.Errorf("targets: watch: registry has no file")
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	f, err := filewatch.Stat(r.path)
	if err != nil && r.shared == nil {
		return fmt.Errorf("targets: watch: %w", err)
	}
	// With a shared database the watcher runs without the file too: it
	// still takes the versions saved by other instances.
	var dbErr string // the database's last error, logged once
	tick := func() {
		if r.shared != nil {
			err := r.Refresh(ctx)
			var ps Problems
			switch {
			case err == nil:
				dbErr = ""
			case errors.As(err, &ps) || ctx.Err() != nil: // an invalid list is logged by Refresh
			case err.Error() != dbErr:
				dbErr = err.Error()
				opt.Logger.Error("targets: cannot read the shared list; the list in force stays", "err", err)
			}
		}
		r.polls.Add(1)
	}
	changed := func() {
		changed, err := r.reload()
		switch {
		case err != nil:
			opt.Logger.Error("targets file changed but is invalid; the previous list stays in force", "err", err)
		case !changed:
			return // this instance wrote it: it shows the list in force
		case r.shared == nil: // an import is logged by Reload
			opt.Logger.Info("targets file changed: reloaded", "targets", len(r.Current().All), "active", len(r.Current().Active()))
		}
		if opt.OnReload != nil {
			opt.OnReload(err)
		}
	}
	go f.Poll(ctx, filewatch.Options{Interval: opt.Interval, Debounce: opt.Debounce}, tick, changed)
	return nil
}

// pollCount counts the watcher's looks at the file (tests).
type pollCount = atomic.Int64
