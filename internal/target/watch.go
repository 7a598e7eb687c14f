package target

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions tune Watch.
type WatchOptions struct {
	// Debounce is how long the file must stay quiet before it is reloaded
	// (editors write in several steps). Default 200ms.
	Debounce time.Duration
	Logger   *slog.Logger
	// OnReload, when set, is called after each reload attempt with its result.
	OnReload func(error)
}

// Watch reloads the registry's file whenever it changes on disk, until ctx
// ends. It watches the folder, not the file, so that editors that replace the
// file (write a copy, rename it over) are seen too. An invalid edit is
// refused with its line logged, and the previous list stays in force.
func (r *Registry) Watch(ctx context.Context, opt WatchOptions) error {
	if r.path == "" {
		return fmt.Errorf("targets: watch: registry has no file")
	}
	if opt.Debounce <= 0 {
		opt.Debounce = 200 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("targets: watch: %w", err)
	}
	abs, err := filepath.Abs(r.path)
	if err != nil {
		w.Close()
		return fmt.Errorf("targets: watch: %w", err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return fmt.Errorf("targets: watch %s: %w", filepath.Dir(abs), err)
	}
	go func() {
		defer w.Close()
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) != abs || ev.Op == fsnotify.Chmod {
					continue
				}
				timer.Reset(opt.Debounce)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				opt.Logger.Error("targets: file watcher", "err", err)
			case <-timer.C:
				err := r.Reload()
				if err != nil {
					opt.Logger.Error("targets file changed but is invalid; the previous list stays in force", "err", err)
				} else {
					opt.Logger.Info("targets file changed: reloaded", "targets", len(r.Current().All), "active", len(r.Current().Active()))
				}
				if opt.OnReload != nil {
					opt.OnReload(err)
				}
			}
		}
	}()
	return nil
}
