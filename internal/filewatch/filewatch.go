// Package filewatch tells when a file an operator edits has changed: the
// targets file and the areas file are put in force again when it does.
package filewatch

import (
	"context"
	"os"
	"time"
)

// Options tune Poll.
type Options struct {
	// Interval is how often the file is looked at. Default 1s.
	Interval time.Duration
	// Debounce is how long the file must stay unchanged before a change
	// counts (editors write in several steps). Default 200ms.
	Debounce time.Duration
}

// File is a file as last seen.
type File struct {
	path string
	last os.FileInfo // nil: missing when last seen
}

// Stat looks at the file at path now: a change is a difference from this
// look on. The error says the file is missing or unreadable; the File can
// still be polled, and the file's appearance is then a change.
func Stat(path string) (*File, error) {
	fi, err := os.Stat(path)
	return &File{path: path, last: fi}, err
}

// Poll looks at the file every Interval until ctx ends. At each look it
// first calls tick (when set); when the file's size, time or identity
// differs from the last look that counted (a file replaced by an editor's
// rename is seen too) it waits until the file stays the same for Debounce,
// then calls changed. A missing file is not a change: it is an editor's
// rename in progress, or an error the reload would repeat.
//
// It polls rather than watching the file's folder: a folder watch wakes on
// every write of every file beside it, and the database often sits there
// (its WAL writes cost the sign path 9 % of its CPU).
func (f *File) Poll(ctx context.Context, o Options, tick, changed func()) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Debounce <= 0 {
		o.Debounce = 200 * time.Millisecond
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if tick != nil {
			tick()
		}
		cur, err := os.Stat(f.path)
		if err != nil || same(cur, f.last) {
			continue
		}
		for { // wait until it stays the same for the debounce
			select {
			case <-ctx.Done():
				return
			case <-time.After(o.Debounce):
			}
			next, err := os.Stat(f.path)
			if err == nil && same(next, cur) {
				break
			}
			if err == nil {
				cur = next
			}
		}
		f.last = cur
		changed()
	}
}

func same(a, b os.FileInfo) bool {
	return b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
