package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The move from one machine's SQLite file to a PostgreSQL database that
// several instances share (outcry db copy): every row of every table, read
// from one snapshot of the file and written in one transaction, so that a
// copy that fails leaves the PostgreSQL database as empty as it was.

// copyFirst are the tables other tables refer to, in the order their rows
// must arrive; the rest follow in the order of their names.
var copyFirst = []string{"supporters", "digests", "messages", "message_events", "webhook_endpoints", "webhook_deliveries"}

// notCopied hold what running processes hold, not campaign data: the
// migrations applied (each database has its own), and the sender's leases
// and election, which the first instance on PostgreSQL makes afresh (and the
// current minute of the supporter mail budget, mail_budget). A
// message a stopped sender had claimed goes back to the queue there.
var notCopied = []string{"schema_migrations", "sender_leases", "sender_leader", "mail_budget"}

// copyBatchParams bounds the parameters of one INSERT (PostgreSQL allows
// 65,535), and copyBatchBytes the text it holds: the copy streams, holding
// one batch at a time (copyChecks bounds one row).
const (
	copyBatchParams = 30000
	copyBatchBytes  = 8 << 20
)

// ErrCopyCommitUnknown is a copy whose commit got no answer: PostgreSQL
// holds all of it or none of it. A second copy tells which: it copies into
// an empty database and refuses a full one.
var ErrCopyCommitUnknown = errors.New("store: copy: the commit got no answer")

// CopyFileToPostgres copies everything the SQLite file at from holds into
// the empty PostgreSQL database at to (outcry db copy). It looks at both
// before it opens (and so migrates) either, so that a refused copy changes
// neither: not a file an outcry runs on, nor a database that holds anything.
func CopyFileToPostgres(ctx context.Context, from, to string, progress Progress) error {
	if IsPostgres(from) || !IsPostgres(to) {
		return errors.New("store: copy goes from a SQLite file to a PostgreSQL database")
	}
	file, err := sql.Open("sqlite", "file:"+from+"?mode=ro")
	if err != nil {
		return fmt.Errorf("store: copy: %w", err)
	}
	err = fileNotInUse(ctx, file, time.Now().UnixMilli())
	file.Close()
	if err != nil {
		return err
	}
	db, err := openPostgres(to)
	if err != nil {
		return err
	}
	err = emptyOrOutcrys(ctx, db)
	db.Close()
	if err != nil {
		return err
	}
	src, err := Open(ctx, from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := Open(ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	return src.copyTo(ctx, dst, progress)
}

// Progress is told how a copy goes: the rows of table written so far, after
// each batch, and once more with done when the table is whole and checked.
type Progress func(table string, rows int64, done bool)

// copyTo copies everything s (a SQLite file) holds into dst, an empty
// PostgreSQL database migrated to the same version. progress may be nil.
func (s *Store) copyTo(ctx context.Context, dst *Store, progress Progress) error {
	if progress == nil {
		progress = func(string, int64, bool) {}
	}
	if s.d.pg || !dst.d.pg {
		return errors.New("store: copy goes from a SQLite file to a PostgreSQL database")
	}
	if err := fileNotInUse(ctx, s.r, s.nowMs()); err != nil {
		return err
	}
	src, err := s.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: copy: %w", err)
	}
	defer src.Close()
	// One read transaction: every table as it was at one moment.
	if _, err := src.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("store: copy: %w", err)
	}
	defer src.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")

	tables, err := copyPlan(ctx, src, dst.w)
	if err != nil {
		return err
	}
	if err := copyChecks(ctx, src, tables); err != nil {
		return err
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.name
	}
	if err := dstEmpty(ctx, dst.w, names); err != nil {
		return err
	}
	tx, err := dst.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: copy: %w", err)
	}
	defer tx.Rollback()
	for _, t := range tables {
		n, err := copyRows(ctx, src, tx, t, func(n int64) { progress(t.name, n, false) })
		if err != nil {
			return fmt.Errorf("store: copy %s: %w", t.name, err)
		}
		var written int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteName(t.name)).Scan(&written); err != nil {
			return fmt.Errorf("store: copy %s: count: %w", t.name, err)
		}
		if written != n {
			return fmt.Errorf("store: copy %s: read %d rows but PostgreSQL holds %d", t.name, n, written)
		}
		if t.identity != "" {
			if err := restartIdentity(ctx, tx, t); err != nil {
				return fmt.Errorf("store: copy %s: %w", t.name, err)
			}
		}
		progress(t.name, n, true)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %v", ErrCopyCommitUnknown, err)
	}
	return nil
}

// fileNotInUse refuses a file an outcry process still sends from: rows
// written after the snapshot would stay behind. A process that stopped
// cleanly released its lease; one that crashed holds it for at most 10 s.
// A file from before leases has none.
func fileNotInUse(ctx context.Context, file *sql.DB, now int64) error {
	var leases int
	if err := file.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sender_leases'`).Scan(&leases); err != nil {
		return fmt.Errorf("store: copy: read the SQLite file: %w", err)
	}
	if leases == 0 {
		return nil
	}
	var until int64
	if err := file.QueryRowContext(ctx, `SELECT COALESCE(MAX(alive_until), 0) FROM sender_leases`).Scan(&until); err != nil {
		return fmt.Errorf("store: copy: %w", err)
	}
	if left := time.Duration(until-now) * time.Millisecond; left > 0 {
		return fmt.Errorf("store: an outcry process still runs on this file (its sender's lease holds for another %s): stop it, then copy; a process that crashed lets go within 10 s", left.Round(time.Second))
	}
	return nil
}

// copyTable is one table to copy: its name, its columns (in PostgreSQL's
// order) and its identity column, if it has one.
type copyTable struct {
	name     string
	columns  []string
	identity string
}

// copyPlan lists the tables to copy, in an order that satisfies their
// foreign keys, and checks that both databases have the same tables and
// columns: they were migrated by the same outcry.
func copyPlan(ctx context.Context, src *sql.Conn, dst *sql.DB) ([]copyTable, error) {
	srcTables, err := strings1(ctx, src, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, err
	}
	dstTables, err := strings1(ctx, dst, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		return nil, err
	}
	// Sorted here: the two databases' collations may order names apart.
	srcTables = slices.Sorted(slices.Values(slices.DeleteFunc(srcTables, func(n string) bool { return slices.Contains(notCopied, n) })))
	dstTables = slices.Sorted(slices.Values(slices.DeleteFunc(dstTables, func(n string) bool { return slices.Contains(notCopied, n) })))
	if err := sameNames("tables", srcTables, dstTables); err != nil {
		return nil, err
	}
	order := append(slices.Clone(copyFirst), slices.DeleteFunc(dstTables, func(n string) bool { return slices.Contains(copyFirst, n) })...)
	plan := make([]copyTable, 0, len(order))
	for _, name := range order {
		t := copyTable{name: name}
		if t.columns, err = strings1(ctx, dst, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, name); err != nil {
			return nil, err
		}
		srcColumns, err := strings1(ctx, src, `SELECT name FROM pragma_table_info(?)`, name)
		if err != nil {
			return nil, err
		}
		if err := sameNames("columns of "+name, slices.Sorted(slices.Values(srcColumns)), slices.Sorted(slices.Values(t.columns))); err != nil {
			return nil, err
		}
		ids, err := strings1(ctx, dst, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND is_identity = 'YES'`, name)
		if err != nil {
			return nil, err
		}
		if len(ids) == 1 {
			t.identity = ids[0]
		}
		plan = append(plan, t)
	}
	return plan, nil
}

// sameNames reports the difference of two sorted lists as an error.
func sameNames(what string, sqlite, pg []string) error {
	if slices.Equal(sqlite, pg) {
		return nil
	}
	only := func(a, b []string) []string {
		return slices.DeleteFunc(slices.Clone(a), func(n string) bool { return slices.Contains(b, n) })
	}
	return fmt.Errorf("store: the two databases differ in their %s (only in SQLite: %v; only in PostgreSQL: %v): open both with the same outcry, which migrates them, then copy",
		what, only(sqlite, pg), only(pg, sqlite))
}

// emptyOrOutcrys refuses, before outcry migrates it, a PostgreSQL database
// with tables of another application (a mistyped URL) or with outcry data.
func emptyOrOutcrys(ctx context.Context, db *sql.DB) error {
	tables, err := strings1(ctx, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		return fmt.Errorf("store: copy: %w", err)
	}
	if len(tables) == 0 {
		return nil
	}
	if !slices.Contains(tables, "schema_migrations") || !slices.Contains(tables, "supporters") {
		slices.Sort(tables)
		return fmt.Errorf("store: the PostgreSQL database holds tables that are not outcry's (%s): copy into a new, empty database (createdb)", strings.Join(tables, ", "))
	}
	return dstEmpty(ctx, db, slices.DeleteFunc(tables, func(n string) bool { return slices.Contains(notCopied, n) }))
}

// dstEmpty refuses a PostgreSQL database that holds outcry data already:
// the copy never overwrites or merges.
func dstEmpty(ctx context.Context, dst *sql.DB, tables []string) error {
	var full []string
	for _, t := range tables {
		var rows int
		if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+quoteName(t)+` LIMIT 1) AS t`).Scan(&rows); err != nil {
			return fmt.Errorf("store: copy: %w", err)
		}
		if rows > 0 {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("store: the PostgreSQL database already holds outcry data (%s): copy into a new, empty database (createdb), so that nothing there is overwritten or mixed", strings.Join(full, ", "))
	}
	return nil
}

// copyRows reads every row of t from the file and inserts them in batches,
// telling written the count after each, and returns how many it read.
func copyRows(ctx context.Context, src *sql.Conn, tx *sql.Tx, t copyTable, written func(int64)) (int64, error) {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quoteName(c)
	}
	list := strings.Join(cols, ", ")
	rows, err := src.QueryContext(ctx, `SELECT `+list+` FROM `+quoteName(t.name))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	perRow := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	batchRows := max(1, copyBatchParams/len(cols))
	args := make([]any, 0, batchRows*len(cols))
	var n, held int64 // rows read; bytes of text in the batch
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		k := len(args) / len(cols)
		q := `INSERT INTO ` + quoteName(t.name) + ` (` + list + `) VALUES ` + strings.TrimSuffix(strings.Repeat(perRow+", ", k), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		clear(args) // let the batch's values go before the next is read
		args, held = args[:0], 0
		written(n)
		return nil
	}
	row := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range row {
		ptrs[i] = &row[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		args = append(args, row...)
		for _, v := range row {
			switch v := v.(type) {
			case string:
				held += int64(len(v))
			case []byte:
				held += int64(len(v))
			}
		}
		n++
		if len(args) >= batchRows*len(cols) || held >= copyBatchBytes {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// restartIdentity moves t's identity sequence past the ids copied, so that
// the next row PostgreSQL numbers does not collide with one of them.
func restartIdentity(ctx context.Context, tx *sql.Tx, t copyTable) error {
	var top int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(`+quoteName(t.identity)+`), 0) FROM `+quoteName(t.name)).Scan(&top); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), ?, false)`, t.name, t.identity, top+1)
	return err
}

// strings1 runs a query of one text column and returns its values.
func strings1(ctx context.Context, db queryer, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: copy: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// quoteName quotes an identifier read from the catalogs.
func quoteName(n string) string { return `"` + strings.ReplaceAll(n, `"`, `""`) + `"` }
