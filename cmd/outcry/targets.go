package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/outcry/outcry/internal/target"
)

// targetsCheck validates a targets file and prints each problem with its line.
func targetsCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	path := getenv("OUTCRY_TARGETS")
	if path == "" {
		path = "targets.yaml"
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: outcry targets check [file]")
		return 2
	}
	if len(args) == 1 {
		path = args[0]
	}
	ts, err := target.Load(path)
	if err != nil {
		var ps target.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(stderr, p.Error())
			}
			fmt.Fprintf(stderr, "%d problem(s) in %s\n", len(ps), path)
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	active := 0
	for _, t := range ts {
		if t.Active {
			active++
		}
	}
	fmt.Fprintf(stdout, "%s: %d targets, %d active: OK\n", path, len(ts), active)
	return 0
}
