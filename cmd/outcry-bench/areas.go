package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/sgfake"
)

// Area targeting (issue 21): a national list of 650 representatives, an
// areas file of the UK's shape (1.8 million postcodes in 650 areas), each
// letter to the supporter's own representative; measured beside the
// all-targets run (the bundled campaign) in the same run, at the same rate.

const (
	ukAreas = 650
	ukKeys  = 1_800_000
)

type areasResults struct {
	Started time.Time `json:"started"`
	CPUs    int       `json:"cpus"`
	Runs    []openRun `json:"runs"` // the all-targets run, then the area run
}

// writeAreaFixture writes, under dir/areas, an areas file of the UK's
// shape, 650 targets each in one area, and a campaign matching by area; it
// returns a sample of the postcodes.
func writeAreaFixture(dir string) (string, []string, error) {
	sub := filepath.Join(dir, "areas")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return "", nil, err
	}
	f, err := os.Create(filepath.Join(sub, "areas.csv"))
	if err != nil {
		return "", nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "key,area,area_name")
	letters := "ABDEFGHJLNPQRSTUWXYZ"
	rng := rand.New(rand.NewPCG(1, 2))
	var sample []string
	n := 0
	for d := 0; n < ukKeys; d++ {
		a := d % ukAreas
		out := fmt.Sprintf("%c%c%d", 'A'+byte(d/260%26), 'A'+byte(d/10%26), d%10+d/6760*10)
		for s := 0; s < 10 && n < ukKeys; s++ {
			for u := 0; u < 400 && n < ukKeys; u += 7 {
				pc := fmt.Sprintf("%s %d%c%c", out, s, letters[u/20], letters[u%20])
				fmt.Fprintf(w, "%s,E14%06d,Constituency %d\n", pc, a, a)
				if rng.IntN(100) == 0 && len(sample) < 20000 {
					sample = append(sample, pc)
				}
				n++
			}
		}
	}
	if err := w.Flush(); err != nil {
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		return "", nil, err
	}
	var t strings.Builder
	t.WriteString("targets:\n")
	for a := range ukAreas {
		fmt.Fprintf(&t, "  - {id: mp-%03d, name: Member %d, title: MP for Constituency %d, email: mp-%03d@example.org, salutation: Member, active: true, areas: [E14%06d]}\n",
			a, a, a, a, a)
	}
	if err := os.WriteFile(filepath.Join(sub, "targets.yaml"), []byte(t.String()), 0o644); err != nil {
		return "", nil, err
	}
	camp, err := outcry.Bundled("campaign.yaml")
	if err != nil {
		return "", nil, err
	}
	text := strings.Replace(string(camp), "slug: netflix-baby", "slug: your-mp", 1) + "\ntargeting:\n  match: area\n"
	if err := os.WriteFile(filepath.Join(sub, "campaign.yaml"), []byte(text), 0o644); err != nil {
		return "", nil, err
	}
	return sub, sample, nil
}

func runAreas(ctx context.Context, o options, logw io.Writer) (*areasResults, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, "outcry-bench: "+format+"\n", a...) }
	dir, bin, cleanup, err := prepare(ctx, o, logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &areasResults{Started: time.Now().UTC(), CPUs: numCPU()}
	cfg := openConfig{rate: o.viralRate, duration: o.openFor, window: 10 * time.Second, maxInFlight: o.maxInFlight, timeout: o.timeout}
	s := senderSettings()[0]

	logf("all-targets run: %g letters/s for %s, the bundled campaign", o.viralRate, o.openFor)
	all, err := openOutcry(ctx, dir, bin, "areas-all", s, cfg)
	if err != nil {
		return nil, err
	}
	all.Server = "outcry, match: all (bundled campaign)"
	logf("all-targets run: %s", all.describe())
	res.Runs = append(res.Runs, all)

	sub, sample, err := writeAreaFixture(dir)
	if err != nil {
		return nil, err
	}
	logf("area run: %d targets, an areas file of %d keys in %d areas; %g letters/s for %s", ukAreas, ukKeys, ukAreas, o.viralRate, o.openFor)
	fake := sgfake.New()
	defer fake.Close()
	fake.SetRecord(false)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	db := dataPath(dir, "areas-area.db")
	env := append(outcryEnvWith(addr, db, sub, fake.URL(), s.Env), "OUTCRY_AREAS="+filepath.Join(sub, "areas.csv"))
	t0 := time.Now()
	c, err := startChild(ctx, "areas-area", dir, addr, bin, nil, env)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	startup := time.Since(t0)
	cfg.postcode = func(i int) string { return sample[(i*7919)%len(sample)] }
	r, err := openOn(ctx, c, c.url+"/api/v1/campaigns/your-mp/letters", cfg)
	if err != nil {
		return nil, err
	}
	r.SentDuring = fake.Count()
	if err := c.stop(); err != nil {
		return nil, err
	}
	if r.QueuedAfter, err = countQueued(ctx, db); err != nil {
		return nil, err
	}
	r.Server, r.Setting = fmt.Sprintf("outcry, match: area (%d targets)", ukAreas), s.Name
	logf("area run: %s (server up in %s, the areas file loaded)", r.describe(), startup.Round(10*time.Millisecond))
	res.Runs = append(res.Runs, r)
	return res, nil
}

func printAreas(w io.Writer, res *areasResults, o options) {
	fmt.Fprintf(w, "\narea targeting (issue 21): %g letters/s offered for %s to each server, unique addresses; %d CPUs\n", o.viralRate, o.openFor, res.CPUs)
	printOpen(w, res.Runs, o.timeout, o.maxInFlight)
}
