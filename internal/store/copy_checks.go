package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// What outcry db copy refuses in the file before it copies a row (issue 27
// item 12): what the server would never have written, so that a file
// edited or made by something else is not trusted.

// CopyFieldLimits are the most characters the server takes in each field a
// supporter writes (letter.MaxName, MaxEmail, MaxPostcode, MaxSubject,
// MaxBody; a test in package letter keeps them equal).
var CopyFieldLimits = map[string]map[string]int{
	"supporters": {"first_name": 100, "last_name": 100, "email": 254, "postcode": 20, "subject": 200, "body": 5000},
}

// copyMaxCell bounds, in characters, any other text the copy takes (a
// message's kept copy, an event's reason, a setting): far above what the
// server writes, and low enough that no row is a burden to hold.
const copyMaxCell = 1 << 20

// copyChecks refuses the file when it was migrated by a newer or other
// outcry (a migration version this one does not know), or when rows hold
// more than the server would take; the rows over are counted and the first
// ids named.
func copyChecks(ctx context.Context, src *sql.Conn, tables []copyTable) error {
	known, err := migrationFiles(sqliteMigrationFiles, "migrations")
	if err != nil {
		return err
	}
	versions, err := strings1(ctx, src, `SELECT CAST(version AS TEXT) FROM schema_migrations ORDER BY version`)
	if err != nil {
		return err
	}
	var unknown []string
	for _, v := range versions {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.ContainsFunc(known, func(m migration) bool { return m.version == n }) {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("store: the file holds migrations this outcry does not know (versions %s): it was made by a newer or another program; copy it with the outcry that wrote it", strings.Join(unknown, ", "))
	}
	var over []string
	for _, t := range tables {
		textCols, err := strings1(ctx, src, `SELECT name FROM pragma_table_info(?) WHERE upper(type) IN ('TEXT', '') OR type LIKE '%CHAR%'`, t.name)
		if err != nil {
			return err
		}
		ids, err := strings1(ctx, src, `SELECT name FROM pragma_table_info(?) WHERE name = 'id'`, t.name)
		if err != nil {
			return err
		}
		first := "NULL" // a table without ids (some are WITHOUT ROWID): the count alone
		if len(ids) == 1 {
			first = "MIN(CAST(id AS TEXT))"
		}
		for _, c := range textCols {
			limit := copyMaxCell
			if l, ok := CopyFieldLimits[t.name][c]; ok {
				limit = l
			}
			var n int64
			var firstID sql.NullString
			q := `SELECT COUNT(*), ` + first + ` FROM ` + quoteName(t.name) + ` WHERE length(` + quoteName(c) + `) > ?`
			if err := src.QueryRowContext(ctx, q, limit).Scan(&n, &firstID); err != nil {
				return fmt.Errorf("store: copy: check %s.%s: %w", t.name, c, err)
			}
			if n > 0 {
				msg := fmt.Sprintf("%s.%s: %d rows over %d characters", t.name, c, n, limit)
				if firstID.Valid {
					msg += " (first id " + firstID.String + ")"
				}
				over = append(over, msg)
			}
		}
	}
	if len(over) > 0 {
		return fmt.Errorf("store: the file holds rows the server would refuse, nothing was copied: %s; erase or shorten them with the outcry that runs on the file, then copy", strings.Join(over, "; "))
	}
	return nil
}
