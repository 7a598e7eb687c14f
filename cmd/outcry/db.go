package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/outcry/outcry/internal/store"
)

const dbUsage = "usage: outcry db copy <sqlite-file> <postgres://…>\n"

// dbCmd is `outcry db copy`: a campaign that outgrows one machine moves its
// SQLite file into an empty PostgreSQL database, which instances then share.
func dbCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) != 3 || args[0] != "copy" {
		fmt.Fprint(stderr, dbUsage)
		return 2
	}
	from, to := args[1], args[2]
	if store.IsPostgres(from) || !store.IsPostgres(to) {
		fmt.Fprint(stderr, "outcry: db copy goes from a SQLite file to a PostgreSQL URL\n"+dbUsage)
		return 2
	}
	// store.Open would create a missing file; a mistyped path must not
	// copy an empty database.
	if _, err := os.Stat(from); err != nil {
		fmt.Fprintf(stderr, "outcry: no SQLite file at %s: %v\n", from, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	src, err := store.Open(ctx, from)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	defer src.Close()
	dst, err := store.Open(ctx, to)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	defer dst.Close()
	var total int64
	err = src.CopyTo(ctx, dst, func(table string, rows int64) {
		fmt.Fprintf(stdout, "%-16s %d rows\n", table, rows)
		total += rows
	})
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		fmt.Fprintln(stderr, "outcry: nothing was copied; the PostgreSQL database is as it was")
		return 1
	}
	fmt.Fprintf(stdout, "copied %d rows from %s; each table's count was checked. Start outcry with OUTCRY_DB set to the PostgreSQL URL, and keep the file as a backup: it is no longer written to.\n", total, from)
	return 0
}
