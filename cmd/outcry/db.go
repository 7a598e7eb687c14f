package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/outcry/outcry/internal/store"
)

const dbUsage = `usage: outcry db copy <sqlite-file> [postgres-url]
  the URL defaults to $OUTCRY_DB (which keeps its password out of the process list)
`

// dbCmd is `outcry db copy`: a campaign that outgrows one machine moves its
// SQLite file into an empty PostgreSQL database, which instances then share.
func dbCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 2 || len(args) > 3 || args[0] != "copy" {
		fmt.Fprint(stderr, dbUsage)
		return 2
	}
	from, to := args[1], getenv("OUTCRY_DB")
	if len(args) == 3 {
		to = args[2]
	}
	if store.IsPostgres(from) || !store.IsPostgres(to) {
		fmt.Fprint(stderr, "outcry: db copy goes from a SQLite file to a PostgreSQL URL (postgres://…)\n"+dbUsage)
		return 2
	}
	// Opening a missing file would create it; a mistyped path must not
	// copy an empty database.
	if _, err := os.Stat(from); err != nil {
		fmt.Fprintf(stderr, "outcry: no SQLite file at %s: %v\n", from, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var total int64
	said := time.Now()
	err := store.CopyFileToPostgres(ctx, from, to, func(table string, rows int64, done bool) {
		switch {
		case done:
			fmt.Fprintf(stdout, "%-16s %d rows\n", table, rows)
			total += rows
		case time.Since(said) >= 5*time.Second: // a big table: a sign of life
			fmt.Fprintf(stdout, "%-16s %d rows so far…\n", table, rows)
		default:
			return
		}
		said = time.Now()
	})
	switch {
	case errors.Is(err, store.ErrCopyCommitUnknown):
		fmt.Fprintln(stderr, "outcry:", err)
		fmt.Fprintln(stderr, "outcry: PostgreSQL holds the whole copy or none of it: run the same command again, which copies into an empty database and refuses one that holds the copy")
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "outcry:", err)
		fmt.Fprintln(stderr, "outcry: nothing was copied")
		return 1
	}
	fmt.Fprintf(stdout, "copied %d rows from %s; PostgreSQL holds as many rows as the file in every table. Start outcry with OUTCRY_DB set to the PostgreSQL URL, and keep the file as a backup: it is no longer written to.\n", total, from)
	return 0
}
