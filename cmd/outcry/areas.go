package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/outcry/outcry/internal/area"
)

const areasUsage = `usage:
  outcry areas import --from onspd|zccd [--names FILE] INPUT OUTPUT
      build an areas file (key,area,area_name) for OUTCRY_AREAS from
        onspd: the UK ONS Postcode Directory CSV (pcds → pcon, the
               Westminster constituency); --names: ONSPD's constituency
               names file (a …CD and a …NM column)
        zccd:  zccd.csv of OpenSourceActivismTech/us-zipcodes-congress
               (state_fips,state_abbr,zcta,cd|house_district → e.g. CA-11)
  outcry areas check FILE
      validate an areas file: each bad line is named; prints its version
`

func areasCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, areasUsage)
		return 2
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, areasUsage)
			return 2
		}
		ix, err := area.Load(args[1])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: %d rows, %d keys (%d split), %d areas: OK\nversion %s\n", args[1], ix.Version.Rows, ix.Keys(),
			ix.SplitKeys(), len(ix.Areas()), ix.Version.String())
		return 0
	case "import":
		fs := flag.NewFlagSet("areas import", flag.ContinueOnError)
		fs.SetOutput(stderr)
		from := fs.String("from", "", "onspd or zccd")
		names := fs.String("names", "", "a CSV of area codes and names")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() != 2 || *from == "" {
			fmt.Fprint(stderr, areasUsage)
			return 2
		}
		if err := areasImport(*from, *names, fs.Arg(0), fs.Arg(1), stdout); err != nil {
			fmt.Fprintln(stderr, "outcry areas import:", err)
			return 1
		}
		return 0
	}
	fmt.Fprint(stderr, areasUsage)
	return 2
}

// areasImport writes the areas file next to OUTPUT and renames it into
// place once it is whole and valid: a running outcry watching OUTPUT never
// reads half a file.
func areasImport(from, namesPath, in, out string, stdout io.Writer) error {
	var names map[string]string
	if namesPath != "" {
		f, err := os.Open(namesPath)
		if err != nil {
			return err
		}
		names, err = area.ReadNames(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".areas-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	st, err := area.Import(from, src, tmp, names)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	ix, err := area.Load(tmp.Name())
	if err != nil {
		return errors.Join(errors.New("the file written does not load"), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d rows (%d skipped without an area), %d keys (%d split), %d areas\nversion %s\n",
		out, st.Rows, st.Skipped, ix.Keys(), ix.SplitKeys(), len(ix.Areas()), ix.Version.String())
	return nil
}
