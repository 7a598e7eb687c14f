package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/store"
)

// supporterCmd is 'outcry supporter export <email>' (JSON of everything
// held about the address on stdout) and 'outcry supporter erase <email>'.
func supporterCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) != 2 || (args[0] != "export" && args[0] != "erase") {
		fmt.Fprint(stderr, "usage: outcry supporter export <email>\n       outcry supporter erase <email>\n")
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	defer st.Close()
	p := &privacy.Service{Store: st}
	if args[0] == "export" {
		exp, err := p.Export(ctx, args[1])
		if err != nil {
			fmt.Fprintln(stderr, "outcry:", err)
			return 1
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(exp); err != nil {
			fmt.Fprintln(stderr, "outcry:", err)
			return 1
		}
		return 0
	}
	n, err := p.Erase(ctx, args[1])
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 1
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no supporter with this address: nothing to erase")
		return 0
	}
	fmt.Fprintf(stdout, "erased %d supporter record(s): names, postcode, address and letter text are gone; counts and the send log remain\n", n)
	return 0
}
