package target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/outcry/outcry/internal/store"
)

// Shared is where the list in force lives when instances share a
// database: versions of the text of targets.yaml, the latest in force.
// *store.Store satisfies it.
type Shared interface {
	// LatestTargetListVersion is the number of the list in force (0: none).
	LatestTargetListVersion(ctx context.Context) (int64, error)
	// LatestTargetList is the list in force; ok is false when none was saved.
	LatestTargetList(ctx context.Context) (l store.TargetList, ok bool, err error)
	// SaveTargetList makes version expect+1, or fails with a
	// *store.TargetListConflict when the latest is no longer expect.
	SaveTargetList(ctx context.Context, expect int64, yaml, hash, origin string) (int64, error)
	// TargetListVersionHash is the latest version with this text's hash.
	TargetListVersionHash(ctx context.Context, hash string) (version int64, ok bool, err error)
}

// maxAttempts bounds the retries of a save that met another instance's.
const maxAttempts = 20

// shareTimeout bounds one look at the database from the methods that take
// no context (Reload, Save, Update).
const shareTimeout = 10 * time.Second

// NewShared loads the list in force from the shared database and makes
// path show it. At start:
//   - no list in the database: the file (valid) seeds it;
//   - the file holds the latest version: nothing to do;
//   - the file holds an older version (this machine was down while the
//     list changed): the shared list wins and the file is rewritten;
//   - the file's text was never in force (edited while outcry was
//     stopped): it is validated and imported as the next version;
//   - no file: it is written with the shared list.
//
// An invalid file is an error, as it was before the list was shared.
func NewShared(ctx context.Context, path string, src Shared, log *slog.Logger) (*Registry, error) {
	if log == nil {
		log = slog.Default()
	}
	host, err := os.Hostname()
	if err != nil {
		host = "?"
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	r := &Registry{path: path, shared: src, log: log, host: host, file: "file " + host + ":" + abs}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Version is the shared version in force (0 for a registry without a database).
func (r *Registry) Version() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func isConflict(err error) bool {
	var c *store.TargetListConflict
	return errors.As(err, &c)
}

func sharedName(v int64) string { return fmt.Sprintf("the shared list of targets (version %d)", v) }

// adopt puts a shared version in force; inFile says that the file shows
// it. Called with r.mu held.
func (r *Registry) adopt(v int64, text []byte, hash string, ts []Target, inFile bool) {
	r.version, r.text, r.hash = v, text, hash
	if inFile {
		r.inFile = v
	}
	r.cur.Store(&List{All: ts})
}

func (r *Registry) start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range maxAttempts {
		data, ferr := os.ReadFile(r.path)
		missing := errors.Is(ferr, fs.ErrNotExist)
		if ferr != nil && !missing {
			return fmt.Errorf("targets: %w", ferr)
		}
		latest, ok, err := r.shared.LatestTargetList(ctx)
		if err != nil {
			return err
		}
		fh := hashOf(data)
		switch {
		case !ok && missing:
			return fmt.Errorf("targets: %w", ferr)
		case !ok:
			ts, err := Parse(r.path, data)
			if err != nil {
				return err
			}
			v, err := r.shared.SaveTargetList(ctx, 0, string(data), fh, "seed "+r.file)
			if isConflict(err) {
				continue // another instance seeded it first
			}
			if err != nil {
				return err
			}
			r.adopt(v, data, fh, ts, true)
			r.log.Info("the database had no list of targets: targets.yaml is now the shared list", "version", v, "path", r.path)
			return nil
		case !missing && fh == latest.Hash:
			ts, err := Parse(r.path, data)
			if err != nil {
				return err
			}
			r.adopt(latest.Version, data, fh, ts, true)
			return nil
		case !missing:
			past, seen, err := r.shared.TargetListVersionHash(ctx, fh)
			if err != nil {
				return err
			}
			if seen {
				r.log.Warn("targets.yaml on this machine holds an old version of the list: rewritten with the list in force on every instance",
					"path", r.path, "file_version", past, "version", latest.Version, "saved_by", latest.Origin)
				break
			}
			ts, err := Parse(r.path, data)
			if err != nil {
				return err
			}
			v, err := r.shared.SaveTargetList(ctx, latest.Version, string(data), fh, r.file)
			if isConflict(err) {
				continue
			}
			if err != nil {
				return err
			}
			r.adopt(v, data, fh, ts, true)
			r.log.Warn(fmt.Sprintf("targets.yaml on this machine was edited: imported as version %d, now in force on every instance", v),
				"path", r.path, "replaces", latest.Version, "replaced_was_saved_by", latest.Origin)
			return nil
		default:
			r.log.Info("no targets.yaml on this machine: written with the list in force", "path", r.path, "version", latest.Version)
		}
		// The shared list wins: the file is written with it.
		text := []byte(latest.YAML)
		ts, err := Parse(sharedName(latest.Version), text)
		if err != nil {
			return err
		}
		if err := WriteAtomic(r.path, text); err != nil {
			return err
		}
		r.adopt(latest.Version, text, latest.Hash, ts, true)
		return nil
	}
	return errors.New("targets: the shared list kept changing while this instance started; start it again")
}

// importFile looks at the file now: an edit (a text other than the one in
// force) is validated and saved as the next version, in force on every
// instance. Called with r.mu held.
func (r *Registry) importFile(ctx context.Context) (changed bool, err error) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		return false, fmt.Errorf("targets: %w", err)
	}
	fh := hashOf(data)
	if fh == r.hash {
		return false, nil // the list in force: this instance wrote it, or took it
	}
	ts, err := Parse(r.path, data)
	if err != nil {
		return false, err
	}
	// A newer version than this instance's, written by another instance
	// that shares this file: take it from the database, do not save it
	// again (that would undo a version made since).
	if v, seen, err := r.shared.TargetListVersionHash(ctx, fh); err != nil {
		return false, err
	} else if seen && v > r.version {
		return r.refresh(ctx)
	}
	for range maxAttempts {
		latest, _, err := r.shared.LatestTargetList(ctx)
		if err != nil {
			return false, err
		}
		// The edit is the newest intent: it is saved on top of the latest
		// version, even one made after the version the file showed when
		// it was edited (logged).
		v, err := r.shared.SaveTargetList(ctx, latest.Version, string(data), fh, r.file)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		attrs := []any{"path", r.path, "targets", len(ts), "active", len((&List{All: ts}).Active())}
		if latest.Version != r.inFile {
			attrs = append(attrs, "edited_from", r.inFile, "replaces", latest.Version, "replaced_was_saved_by", latest.Origin)
		}
		r.adopt(v, data, fh, ts, true)
		r.log.Warn(fmt.Sprintf("targets.yaml on this machine was edited: imported as version %d, now in force on every instance", v), attrs...)
		return true, nil
	}
	return false, errors.New("targets: the shared list kept changing; the edit of targets.yaml was not imported, save it again")
}

// Refresh looks at the database now: when another instance changed the
// list, the new version is validated as a file is, put in force, and
// written to this machine's targets.yaml (unless the file holds an edit
// not imported yet, which is left for the watcher to import).
func (r *Registry) Refresh(ctx context.Context) error {
	if r.shared == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.refresh(ctx)
	return err
}

// refresh is Refresh with r.mu held.
func (r *Registry) refresh(ctx context.Context) (changed bool, err error) {
	// The number first: the text is read only when it changed.
	if v, err := r.shared.LatestTargetListVersion(ctx); err != nil || v == r.version || v == r.refused {
		return false, err
	}
	latest, ok, err := r.shared.LatestTargetList(ctx)
	if err != nil || !ok || latest.Version == r.version || latest.Version == r.refused {
		return false, err
	}
	text := []byte(latest.YAML)
	ts, err := Parse(sharedName(latest.Version), text)
	if err != nil {
		r.refused = latest.Version
		r.log.Error("the shared list of targets is invalid; the previous list stays in force", "version", latest.Version,
			"saved_by", latest.Origin, "err", err)
		return false, err
	}
	before := r.hash
	r.adopt(latest.Version, text, latest.Hash, ts, false)
	r.log.Info("the list of targets changed: new version in force", "version", latest.Version, "saved_by", latest.Origin,
		"targets", len(ts), "active", len(r.Current().Active()))
	data, ferr := os.ReadFile(r.path)
	switch fh := hashOf(data); {
	case ferr == nil && fh == latest.Hash:
		r.inFile = latest.Version
	case ferr == nil && fh != before:
		r.log.Warn("targets.yaml on this machine has an edit not imported yet: not rewritten with the new version", "path", r.path,
			"version", latest.Version)
	default:
		if err := WriteAtomic(r.path, text); err != nil {
			r.log.Error("targets.yaml not rewritten with the list in force", "version", latest.Version, "err", err)
		} else {
			r.inFile = latest.Version
		}
	}
	return true, nil
}

// updateShared saves the edited list as the next version, re-reading the
// latest and applying edit again when another instance saved first. The
// text is the shared one with the edit written over it (MarshalOver keeps
// its comments and order). Called with r.mu held.
func (r *Registry) updateShared(edit func(current []Target) ([]Target, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), shareTimeout)
	defer cancel()
	for range maxAttempts {
		next, err := edit(append([]Target(nil), r.Current().All...))
		if err != nil {
			return err
		}
		data, err := MarshalOver(r.text, next)
		if err != nil {
			return err
		}
		parsed, err := Parse(r.path, data)
		if err != nil {
			return err
		}
		fh := hashOf(data)
		if fh == r.hash {
			return nil // nothing changed
		}
		v, err := r.shared.SaveTargetList(ctx, r.version, string(data), fh, "console "+r.host)
		if isConflict(err) {
			if _, err := r.refresh(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		r.adopt(v, data, fh, parsed, false)
		if err := WriteAtomic(r.path, data); err != nil {
			// In force on every instance all the same: the file follows
			// at the next change, or at the next start.
			r.log.Error("targets.yaml not rewritten with the list in force", "version", v, "err", err)
		} else {
			r.inFile = v
		}
		return nil
	}
	return errors.New("targets: the shared list kept changing; the change was not saved, try again")
}
