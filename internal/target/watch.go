package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
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
// version (Reload). It polls the file's size, time and identity (a file replaced by an
// editor's rename is seen too) rather than watching its folder: a folder
// watch wakes on every write of every file beside it, and the database
// often sits there (its WAL writes cost the sign path 9 % of its CPU). An
// invalid edit is refused with its line logged, and the previous list stays
// in force.
func (r *Registry) Watch(ctx context.Context, opt WatchOptions) error {
	if r.path == "" {
		return fmt.Errorf("targets: watch: registry has no file")
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.Debounce <= 0 {
		opt.Debounce = 200 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	last, err := os.Stat(r.path)
	if err != nil && r.shared == nil {
		return fmt.Errorf("targets: watch: %w", err)
	}
	// With a shared database the watcher runs without the file too: it
	// still takes the versions saved by other instances.
	go func() {
		tick := time.NewTicker(opt.Interval)
		defer tick.Stop()
		var dbErr string // the database's last error, logged once
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
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
			cur, err := os.Stat(r.path)
			if err != nil || sameFile(cur, last) {
				continue // a missing file is an editor's rename in progress, or an error the reload would repeat
			}
			// Changed: wait until it stays the same for the debounce.
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(opt.Debounce):
				}
				next, err := os.Stat(r.path)
				if err == nil && sameFile(next, cur) {
					break
				}
				if err == nil {
					cur = next
				}
			}
			last = cur
			changed, err := r.reload()
			switch {
			case err != nil:
				opt.Logger.Error("targets file changed but is invalid; the previous list stays in force", "err", err)
			case !changed:
				continue // this instance wrote it: it shows the list in force
			case r.shared == nil: // an import is logged by Reload
				opt.Logger.Info("targets file changed: reloaded", "targets", len(r.Current().All), "active", len(r.Current().Active()))
			}
			if opt.OnReload != nil {
				opt.OnReload(err)
			}
		}
	}()
	return nil
}

func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// pollCount counts the watcher's looks at the file (tests).
type pollCount = atomic.Int64
