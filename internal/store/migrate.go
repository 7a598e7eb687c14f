package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var sqliteMigrationFiles embed.FS

//go:embed pgmigrations/*.sql
var pgMigrationFiles embed.FS

// migrations is one database's set of migrations and what its runs need
// around them; the runner (migrate) is the same for both.
type migrations struct {
	fsys fs.FS
	dir  string
	// table creates schema_migrations, in the database's integer type.
	table string
	// lock and unlock, when set, are held on the runner's connection
	// around the run: PostgreSQL's advisory lock, so that instances
	// starting together apply the migrations one at a time (a second one
	// waits, then finds them applied). SQLite has one writer connection.
	lock, unlock string
	// foreignKeysOff: SQLite turns foreign keys off while a migration
	// runs (a table rebuilt under its children would otherwise fail to
	// drop) and checks them before it commits, as SQLite's own procedure
	// for schema changes does.
	foreignKeysOff bool
}

// migrationLock is the advisory lock that makes PostgreSQL instances
// starting together apply the migrations one at a time.
const migrationLock = 0x6f757463 // "outc"

var (
	sqliteMigrations = migrations{
		fsys: sqliteMigrationFiles, dir: "migrations",
		table: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		foreignKeysOff: true,
	}
	pgMigrations = migrations{
		fsys: pgMigrationFiles, dir: "pgmigrations",
		table: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
		lock:   `SELECT pg_advisory_lock(` + strconv.Itoa(migrationLock) + `)`,
		unlock: `SELECT pg_advisory_unlock(` + strconv.Itoa(migrationLock) + `)`,
	}
)

// migrate applies the numbered files of the store's database's set, up to
// version upTo, that have not run yet, each in its own transaction, on one
// connection of the writer pool.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	set := sqliteMigrations
	if s.d.pg {
		set = pgMigrations
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if set.lock != "" {
		if _, err := conn.ExecContext(ctx, set.lock); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), set.unlock)
	}
	if _, err := conn.ExecContext(ctx, set.table); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	files, err := migrationFiles(set.fsys, set.dir)
	if err != nil {
		return err
	}
	for _, m := range files {
		var done int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if done > 0 || m.version > upTo {
			continue
		}
		if err := s.migrateOne(ctx, conn, set, m); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// migrateOne applies m in a transaction on conn and records it.
func (s *Store) migrateOne(ctx context.Context, conn *sql.Conn, set migrations, m migration) (err error) {
	if set.foreignKeysOff {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer func() {
			if _, ferr := conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`); ferr != nil && err == nil {
				err = ferr
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		s.noteWrite(err)
		return err
	}
	_, err = tx.ExecContext(ctx, m.body)
	if err == nil && set.foreignKeysOff {
		err = foreignKeyCheck(ctx, tx)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, s.nowMs())
	}
	if err != nil {
		tx.Rollback()
		s.noteWrite(err)
		return err
	}
	err = tx.Commit()
	s.noteWrite(err)
	return err
}

// migration is one numbered file of migrations/ or pgmigrations/.
type migration struct {
	version int
	name    string
	body    string
}

// migrationFiles reads the migrations in dir, in the order of their names
// (fs.ReadDir's order).
func migrationFiles(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	out := make([]migration, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a number and '_'", name)
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", name, err)
		}
		out = append(out, migration{version: version, name: name, body: string(body)})
	}
	return out, nil
}

// foreignKeyCheck fails when any row references a missing parent.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s (rowid %d) references a missing row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}
