// Command outcry serves a letter campaign: the campaign page, the JSON API
// and the sender that delivers each letter to every decision-maker.
//
//	outcry                       serve (configured by environment variables)
//	outcry targets check [file]  validate a targets file
//	outcry areas import|check    build or validate an areas file (OUTCRY_AREAS)
//	outcry supporter export|erase <email>  a supporter's data: a copy, or its erasure
//	outcry db copy <sqlite-file> [postgres-url]  move a campaign to PostgreSQL
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "serve" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, getenv, stderr); err != nil {
			fmt.Fprintln(stderr, "outcry:", err)
			return 1
		}
		return 0
	}
	switch {
	case len(args) >= 2 && args[0] == "targets" && args[1] == "check":
		return targetsCheck(args[2:], getenv, stdout, stderr)
	case args[0] == "areas":
		return areasCmd(args[1:], stdout, stderr)
	case args[0] == "supporter":
		return supporterCmd(args[1:], getenv, stdout, stderr)
	case args[0] == "db":
		return dbCmd(args[1:], getenv, stdout, stderr)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "outcry: unknown command %q\n\n%s", args[0], usage)
	return 2
}

const usage = `usage:
  outcry                        serve the campaign (settings from the environment, see docs/configuration.md)
  outcry targets check [file]   validate a targets file (default: $OUTCRY_TARGETS or targets.yaml)
  outcry areas import --from onspd|zccd [--names FILE] INPUT OUTPUT
                                build an areas file (OUTCRY_AREAS) from the UK ONS Postcode
                                Directory or the US zccd.csv (see docs/area-targeting.md)
  outcry areas check FILE       validate an areas file; each bad line is named
  outcry supporter export <email>  print everything held about an address as JSON
  outcry supporter erase <email>   erase an address's personal data and letter text (counts stay)
  outcry db copy <sqlite-file> [postgres-url]
                                copy everything from a stopped outcry's SQLite file into an
                                empty PostgreSQL database ($OUTCRY_DB when no URL is given;
                                see docs/instances.md)
`

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
