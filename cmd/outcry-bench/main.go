// Command outcry-bench measures outcry on this machine, on loopback, with a
// fresh temporary database, against baselines measured in the same run:
//
//	go run ./cmd/outcry-bench            full run (about a minute)
//	go run ./cmd/outcry-bench -short     a few seconds (CI: it must not rot)
//	go run ./cmd/outcry-bench -viral 60s only the viral minute (issue 17)
//	go run ./cmd/outcry-bench -db-only   only the sign path by database (issue 14)
//
// The sign path by database needs a PostgreSQL server: -pg, default
// OUTCRY_TEST_PG (eval "$(.ci/pg start)" starts a throwaway one); without
// one that section is skipped.
//
// Every server measured runs in its own child process, so that its peak
// memory is its own: the baselines are this program run again with a hidden
// flag; outcry is the real binary (built from ./cmd/outcry unless -outcry
// names one) configured through its environment variables, sending through
// the real SendGrid mailer to a fake SendGrid (internal/sgfake) in this
// process. Nothing leaves 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	short       bool
	duration    time.Duration
	conns       int
	jsonPath    string
	outcry      string
	letters     int
	rate        float64
	rateFor     time.Duration
	signRate    float64
	keep        bool
	baseline    string
	addr, dbArg string

	openRatesArg string
	openRates    []float64
	openFor      time.Duration
	maxInFlight  int
	timeout      time.Duration
	viral        time.Duration
	viralRate    float64
	openOnly     bool

	areas      bool
	pg         string
	dbOpenRate float64
	dbOnly     bool
}

func main() {
	var o options
	flag.BoolVar(&o.short, "short", false, "a few seconds in all: 2 s of load, 1,000 letters to drain, 5 s of rate (CI)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "load duration of each HTTP measurement (-short: 2s)")
	flag.IntVar(&o.conns, "conns", 64, "concurrent connections of the load generator")
	flag.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&o.outcry, "outcry", "", "outcry binary to measure (default: built from ./cmd/outcry)")
	flag.IntVar(&o.letters, "letters", 10000, "letters queued for the drain (× the campaign's targets; -short: 1000)")
	flag.Float64Var(&o.rate, "rate", 50, "OUTCRY_SEND_RATE for the rate-accuracy run")
	flag.DurationVar(&o.rateFor, "rate-duration", 30*time.Second, "how long the rate-accuracy run measures (-short: 5s)")
	flag.Float64Var(&o.signRate, "sign-send-rate", 5, "OUTCRY_SEND_RATE of the sender running during the sign run (default: outcry's default; 0 = no limit, it then drains as fast as it can beside the sign requests)")
	flag.StringVar(&o.openRatesArg, "open-rates", "500,1000,2000", "open loop: arrival rates in letters/s, comma-separated; empty = no open loop (-short: 200)")
	flag.DurationVar(&o.openFor, "open-duration", 10*time.Second, "open loop: how long letters arrive at each rate (-short: 1s)")
	flag.IntVar(&o.maxInFlight, "max-in-flight", 10000, "open loop: hard cap on requests in flight; an arrival beyond it is not sent and counts as not accepted")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "open loop: client timeout of each request")
	flag.DurationVar(&o.viral, "viral", 0, "run only the viral minute: outcry on its defaults at -viral-rate for this long (60s; 10m reports each minute)")
	flag.Float64Var(&o.viralRate, "viral-rate", 1000, "letters/s of the -viral run")
	flag.BoolVar(&o.areas, "areas", false, "run only area targeting (issue 21): the all-targets run and the area run (650 targets, an areas file of the UK's shape) at -viral-rate for -open-duration")
	flag.BoolVar(&o.openOnly, "open-only", false, "run only the open loop (skip the closed loop, the drain and the rate run)")
	flag.StringVar(&o.pg, "pg", os.Getenv("OUTCRY_TEST_PG"), "PostgreSQL server for the sign path by database (a postgres:// URL; default $OUTCRY_TEST_PG; none: that section is skipped). The benchmark creates its own databases there (outcry_bench_…) and drops them")
	flag.Float64Var(&o.dbOpenRate, "db-open-rate", goalRate, "sign path by database: open-loop arrival rate in letters/s; 0 = closed loop only (-short: 200)")
	flag.BoolVar(&o.dbOnly, "db-only", false, "run only the sign path by database")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (databases, server logs)")
	flag.StringVar(&o.baseline, "serve-baseline", "", "internal: serve a baseline (bare|insert) in this process")
	flag.StringVar(&o.addr, "addr", "", "internal: baseline listen address")
	flag.StringVar(&o.dbArg, "db", "", "internal: baseline database")
	flag.Parse()

	if o.baseline != "" {
		if err := serveBaseline(o.baseline, o.addr, o.dbArg); err != nil {
			fmt.Fprintln(os.Stderr, "outcry-bench baseline:", err)
			os.Exit(1)
		}
		return
	}
	if o.short {
		setIfDefault := func(name string, f func()) {
			set := false
			flag.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
			if !set {
				f()
			}
		}
		setIfDefault("duration", func() { o.duration = 2 * time.Second })
		setIfDefault("letters", func() { o.letters = 1000 })
		setIfDefault("rate-duration", func() { o.rateFor = 5 * time.Second })
		setIfDefault("open-rates", func() { o.openRatesArg = "200" })
		setIfDefault("open-duration", func() { o.openFor = time.Second })
		setIfDefault("db-open-rate", func() { o.dbOpenRate = 200 })
	}
	for _, f := range strings.Split(o.openRatesArg, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v <= 0 || v > 100_000 {
			fmt.Fprintf(os.Stderr, "outcry-bench: -open-rates: %q is not a rate in 0..100000\n", f)
			os.Exit(2)
		}
		o.openRates = append(o.openRates, v)
	}
	if o.openFor <= 0 || o.openFor > 10*time.Minute || o.viral < 0 || o.viral > time.Hour || o.viralRate <= 0 || o.viralRate > 100_000 ||
		o.maxInFlight < 1 || o.maxInFlight > 15_000 || o.timeout <= 0 || o.timeout > time.Minute || o.dbOpenRate < 0 || o.dbOpenRate > 100_000 {
		fmt.Fprintln(os.Stderr, "outcry-bench: -open-duration up to 10m, -viral up to 1h, -viral-rate 0..100000, -max-in-flight 1..15000, -timeout up to 1m, -db-open-rate 0..100000")
		os.Exit(2)
	}
	if o.conns < 1 || o.conns > 1024 || o.duration <= 0 || o.duration > 10*time.Minute || o.letters < 1 || o.letters > 1_000_000 ||
		o.rate <= 0 || o.rateFor <= 0 || o.rateFor > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "outcry-bench: -conns 1..1024, -duration and -rate-duration up to 10m, -letters 1..1000000, -rate > 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var res any
	if o.areas {
		runs, err := runAreas(ctx, o, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "outcry-bench:", err)
			os.Exit(1)
		}
		printAreas(os.Stdout, runs, o)
		res = runs
	} else if o.viral > 0 {
		v, err := runViral(ctx, o, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "outcry-bench:", err)
			os.Exit(1)
		}
		printViral(os.Stdout, v.Viral, o.timeout)
		res = v
	} else {
		r, err := run(ctx, o, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "outcry-bench:", err)
			os.Exit(1)
		}
		if !o.openOnly && !o.dbOnly {
			printTable(os.Stdout, r)
		}
		printOpen(os.Stdout, r.Open, o.timeout, o.maxInFlight)
		printByDatabase(os.Stdout, r.ByDatabase, r.CPUs)
		res = r
	}
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "outcry-bench:", err)
			os.Exit(1)
		}
	}
}

// results is everything one run measured (also the -json document).
type results struct {
	Started  time.Time `json:"started"`
	CPUs     int       `json:"cpus"`
	Conns    int       `json:"conns"`
	Duration string    `json:"duration"`
	Short    bool      `json:"short"`

	Bare   loadResult `json:"baseline_bare"`
	Insert loadResult `json:"baseline_validate_insert"`
	Sign   loadResult `json:"sign"`

	SignOverInsert float64 `json:"sign_over_insert"`
	SignOverBare   float64 `json:"sign_over_bare"`
	SignSendRate   float64 `json:"sign_sender_rate"`
	SignSentDuring int     `json:"sign_sent_during"`

	DrainMessages int     `json:"drain_messages"`
	DrainSeconds  float64 `json:"drain_seconds"`
	DrainRate     float64 `json:"drain_messages_per_second"`

	RateLimit      float64 `json:"rate_limit"`
	RateSeconds    float64 `json:"rate_seconds"`
	RateAchieved   float64 `json:"rate_achieved"`
	RateErrorPct   float64 `json:"rate_error_percent"`
	RateMaxSecond  int     `json:"rate_max_in_one_second"`
	RateBurstLimit int     `json:"rate_allowed_in_one_second"`

	PeakRSSMiB   float64            `json:"outcry_peak_rss_mib"`
	PeakRSSEach  map[string]float64 `json:"outcry_peak_rss_mib_each"`
	PeakRSSWhich string             `json:"outcry_peak_rss_process"`

	Open []openRun `json:"open_loop"`

	ByDatabase *dbResults `json:"sign_by_database,omitempty"`
}

// viralResults is the document of a -viral run.
type viralResults struct {
	Started time.Time `json:"started"`
	CPUs    int       `json:"cpus"`
	Viral   openRun   `json:"viral"`
}

func runViral(ctx context.Context, o options, logw io.Writer) (*viralResults, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, "outcry-bench: "+format+"\n", a...) }
	dir, bin, cleanup, err := prepare(ctx, o, logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &viralResults{Started: time.Now().UTC(), CPUs: numCPU()}
	res.Viral, err = measureViral(ctx, o, dir, bin, logf)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// prepare makes the temporary folder (with its data folder) and builds
// outcry unless -outcry names a binary.
func prepare(ctx context.Context, o options, logf func(string, ...any)) (dir, bin string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "outcry-bench-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if o.keep {
		logf("keeping %s", dir)
		cleanup = func() {}
	}
	if err := os.MkdirAll(dataPath(dir, ""), 0o755); err != nil {
		cleanup()
		return "", "", nil, err
	}
	bin = o.outcry
	if bin == "" {
		bin = filepath.Join(dir, "outcry")
		logf("building ./cmd/outcry")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/outcry")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			cleanup()
			return "", "", nil, fmt.Errorf("build ./cmd/outcry (run from the repository root, or pass -outcry): %w", err)
		}
	}
	return dir, bin, cleanup, nil
}

func run(ctx context.Context, o options, logw io.Writer) (*results, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, "outcry-bench: "+format+"\n", a...) }
	dir, bin, cleanup, err := prepare(ctx, o, logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	res := &results{Started: time.Now().UTC(), CPUs: numCPU(), Conns: o.conns, Duration: o.duration.String(), Short: o.short,
		PeakRSSEach:  map[string]float64{},
		PeakRSSWhich: "the outcry server child process (VmHWM from /proc/<pid>/status); each step runs its own process, the figure is the largest"}
	warmup := min(time.Second, o.duration/5)
	if o.dbOnly {
		res.ByDatabase, err = measureByDatabase(ctx, o, dir, bin, logf)
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	if o.openOnly {
		res.Open, err = measureOpen(ctx, o, dir, bin, self, logf)
		if err != nil {
			return nil, err
		}
		return res, nil
	}

	// 1 and 2. The baselines and the sign endpoint, measured in interleaved
	// rounds (bare, insert, sign, bare, …) so that whatever else the machine
	// does at the time weighs on all three alike: their ratios are what
	// this run can trust.
	type server struct {
		name string
		c    *child
		url  string
		raw  loadRaw
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.c.stop()
		}
	}()
	for _, kind := range []string{"bare", "insert"} {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		c, err := startChild(ctx, "baseline-"+kind, dir, addr, self,
			[]string{"-serve-baseline", kind, "-addr", addr, "-db", filepath.Join(dir, "baseline.db")}, nil)
		if err != nil {
			return nil, err
		}
		servers = append(servers, &server{name: "baseline " + kind, c: c, url: c.url + "/api/v1/campaigns/x/letters"})
	}
	signChild, fake, signURL, err := startSign(ctx, o, dir, bin)
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	sign := &server{name: "outcry sign", c: signChild, url: signURL}
	servers = append(servers, sign)
	rounds := 5
	if o.short {
		rounds = 2
	}
	per := o.duration / time.Duration(rounds)
	logf("baselines and sign endpoint: %d rounds of %s each, %d connections, outcry's sender running", rounds, per, o.conns)
	for r := range rounds {
		for _, s := range servers {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			warm := time.Duration(0)
			if r == 0 {
				warm = warmup
			}
			s.raw.add(runRaw(ctx, s.url, o.conns, warm, per))
		}
	}
	res.Bare, res.Insert, res.Sign = servers[0].raw.summary(), servers[1].raw.summary(), sign.raw.summary()
	rss, err := signChild.peakRSS()
	if err != nil {
		return nil, err
	}
	for _, s := range servers {
		if err := s.c.stop(); err != nil {
			return nil, err
		}
	}
	res.SignSendRate, res.SignSentDuring = o.signRate, fake.Count()
	res.PeakRSSEach["sign"] = rss
	res.SignOverInsert = ratio(res.Sign.RPS, res.Insert.RPS)
	res.SignOverBare = ratio(res.Sign.RPS, res.Bare.RPS)

	// 3. The drain, then the rate accuracy.
	drain, err := measureDrain(ctx, o, dir, bin, logf)
	if err != nil {
		return nil, err
	}
	res.DrainMessages, res.DrainSeconds, res.DrainRate = drain.messages, drain.seconds, drain.rate
	res.PeakRSSEach["drain"] = drain.rss
	rate, err := measureRate(ctx, o, dir, bin, logf)
	if err != nil {
		return nil, err
	}
	res.RateLimit, res.RateSeconds, res.RateAchieved, res.RateMaxSecond = o.rate, rate.seconds, rate.achieved, rate.maxSecond
	res.RateErrorPct = 100 * (rate.achieved - o.rate) / o.rate
	res.RateBurstLimit = int(math.Ceil(o.rate)) + 1 // the sender's limiter has a burst of 1
	res.PeakRSSEach["rate"] = rate.rss
	for _, v := range res.PeakRSSEach {
		res.PeakRSSMiB = max(res.PeakRSSMiB, v)
	}

	// 4. The open loop: each rate against the baseline and outcry in the
	// three sender settings of issue 17.
	res.Open, err = measureOpen(ctx, o, dir, bin, self, logf)
	if err != nil {
		return nil, err
	}

	// 5. The sign path by database (issue 14).
	res.ByDatabase, err = measureByDatabase(ctx, o, dir, bin, logf)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func printTable(w io.Writer, r *results) {
	mode := "full"
	if r.Short {
		mode = "short (figures are indicative only)"
	}
	fmt.Fprintf(w, "\noutcry-bench: %s run, %d CPUs, %d connections, %s per HTTP measurement\n\n", mode, r.CPUs, r.Conns, r.Duration)
	row := func(name, value, goal string, met *bool) {
		mark := ""
		if met != nil {
			mark = "met"
			if !*met {
				mark = "MISSED"
			}
		}
		fmt.Fprintf(w, "%-44s %16s  %-22s %s\n", name, value, goal, mark)
	}
	b := func(v bool) *bool { return &v }
	fmt.Fprintf(w, "%-44s %16s  %-22s %s\n", "figure", "value", "goal", "")
	fmt.Fprintln(w, strings.Repeat("-", 92))
	lr := func(name string, l loadResult) {
		row(name+" requests/s", fmt.Sprintf("%.0f", l.RPS), "", nil)
		row(name+" p50 / p99 ms", fmt.Sprintf("%.2f / %.2f", l.P50ms, l.P99ms), "", nil)
		row(name+" errors / requests", fmt.Sprintf("%d / %d", l.Errors, l.Requests), "", nil)
	}
	lr("baseline bare echo 200", r.Bare)
	lr("baseline validate + 1-row insert", r.Insert)
	row("sign POST /api/v1/.../letters requests/s", fmt.Sprintf("%.0f", r.Sign.RPS), "", nil)
	row("sign p50 ms", fmt.Sprintf("%.2f", r.Sign.P50ms), "", nil)
	row("sign p99 ms", fmt.Sprintf("%.2f", r.Sign.P99ms), "<= 25", b(r.Sign.P99ms <= 25))
	row("sign errors / requests", fmt.Sprintf("%d / %d", r.Sign.Errors, r.Sign.Requests), "0", b(r.Sign.Errors == 0))
	row("sign / validate+insert baseline", fmt.Sprintf("%.0f %%", 100*r.SignOverInsert), ">= 70 %", b(r.SignOverInsert >= 0.70))
	row("sign / bare baseline", fmt.Sprintf("%.0f %%", 100*r.SignOverBare), "", nil)
	rateName := "no limit"
	if r.SignSendRate > 0 {
		rateName = fmt.Sprintf("%g/s", r.SignSendRate)
	}
	row("sent by its sender meanwhile ("+rateName+")", fmt.Sprintf("%d", r.SignSentDuring), "", nil)
	row(fmt.Sprintf("drain %d messages, no limit: msg/s", r.DrainMessages), fmt.Sprintf("%.0f", r.DrainRate), ">= 5000", b(r.DrainRate >= 5000))
	row("drain seconds", fmt.Sprintf("%.2f", r.DrainSeconds), "", nil)
	row(fmt.Sprintf("rate %g/s over %.0f s: achieved", r.RateLimit, r.RateSeconds), fmt.Sprintf("%.2f/s (%+.2f %%)", r.RateAchieved, r.RateErrorPct), "± 1 %", b(math.Abs(r.RateErrorPct) <= 1))
	row("rate: most sends in one second", fmt.Sprintf("%d", r.RateMaxSecond), fmt.Sprintf("<= %d", r.RateBurstLimit), b(r.RateMaxSecond <= r.RateBurstLimit))
	row("outcry server peak RSS MiB (VmHWM)", fmt.Sprintf("%.1f", r.PeakRSSMiB), "<= 64", b(r.PeakRSSMiB <= 64))
	fmt.Fprintf(w, "  (sign %.1f, drain %.1f, rate %.1f MiB)\n", r.PeakRSSEach["sign"], r.PeakRSSEach["drain"], r.PeakRSSEach["rate"])
	fmt.Fprintf(w, "peak RSS is measured on %s\n", r.PeakRSSWhich)
}
