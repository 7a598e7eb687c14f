package target

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Save validates targets exactly as start-up does (Parse on the marshalled
// bytes), puts the new list in force at once and writes it to the
// registry's file atomically — a temporary file in the same folder, renamed
// over the old one, which is kept as "<file>.bak". With a shared database
// it is saved there first as the next version, in force on every instance.
func (r *Registry) Save(targets []Target) error {
	return r.Update(func([]Target) ([]Target, error) { return targets, nil })
}

// Update changes the list with edit and saves it, holding the save lock
// from read to write so that two concurrent edits cannot lose one. With a
// shared database, when another instance saved first, edit is applied
// again to its list (edit may be called more than once).
func (r *Registry) Update(edit func(current []Target) ([]Target, error)) error {
	if r.path == "" {
		return errors.New("targets: registry has no file")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shared != nil {
		return r.updateShared(edit)
	}
	next, err := edit(append([]Target(nil), r.Current().All...))
	if err != nil {
		return err
	}
	return r.saveLocked(next)
}

func (r *Registry) saveLocked(targets []Target) error {
	// Written into the file as it is on disk, keeping its comments and order.
	var data []byte
	var err error
	if old, rerr := os.ReadFile(r.path); rerr == nil {
		data, err = MarshalOver(old, targets)
	} else {
		data, err = Marshal(targets)
	}
	if err != nil {
		return err
	}
	parsed, err := Parse(r.path, data)
	if err != nil {
		return err
	}
	if err := WriteAtomic(r.path, data); err != nil {
		return err
	}
	r.cur.Store(&List{All: parsed})
	return nil
}

// WriteAtomic replaces path with data: it writes a temporary file in the same
// folder, syncs it, keeps the current file as path+".bak", then renames the
// temporary file over path. A reader never sees a half-written file.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("targets: save: %w", err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return fmt.Errorf("targets: save %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if old, err := os.ReadFile(path); err == nil {
		if err := os.WriteFile(path+".bak", old, mode); err != nil {
			os.Remove(tmpName)
			return fmt.Errorf("targets: save %s: keep backup: %w", path, err)
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("targets: save %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
