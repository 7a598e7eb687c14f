package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
)

// The sign path by database (issue 14): the closed-loop sign measurement
// and the open loop at one rate, for outcry on SQLite, on PostgreSQL, and
// as two instances sharing one PostgreSQL database with the load split
// evenly between them (as a round-robin proxy would).

// dbSetting is one way of running outcry for the section.
type dbSetting struct {
	Name      string `json:"name"`
	Postgres  bool   `json:"postgres"`
	Instances int    `json:"instances"`
}

func dbSettings() []dbSetting {
	return []dbSetting{
		{Name: "SQLite, one instance", Instances: 1},
		{Name: "PostgreSQL, one instance", Postgres: true, Instances: 1},
		{Name: "PostgreSQL, two instances", Postgres: true, Instances: 2},
	}
}

// dbRun is what the section measured for one setting.
type dbRun struct {
	dbSetting
	// Sign is the closed loop over all the setting's instances together:
	// its requests_per_second is their sum, its percentiles are over every
	// request.
	Sign        loadResult   `json:"sign"`
	PerInstance []loadResult `json:"sign_per_instance,omitempty"`
	SentDuring  int          `json:"sign_sent_by_sender"`
	// The CPU time per successful sign request of the setting's outcry
	// processes together and of the PostgreSQL server processes serving
	// its database (absent when the server is not on this machine).
	OutcryCPUms   float64     `json:"sign_outcry_cpu_ms_per_request"`
	PostgresCPUms *float64    `json:"sign_postgres_cpu_ms_per_request,omitempty"`
	Open          *openResult `json:"open_loop,omitempty"`
	OpenSent      int         `json:"open_loop_sent_by_sender,omitempty"`
}

// dbResults is the section's document.
type dbResults struct {
	Skipped      string  `json:"skipped,omitempty"`
	Server       string  `json:"postgres_server,omitempty"` // without its password
	Version      string  `json:"postgres_version,omitempty"`
	Conns        int     `json:"conns"`
	Duration     string  `json:"duration"`
	Rounds       int     `json:"rounds"`
	SignSendRate float64 `json:"sign_sender_rate"`
	OpenRate     float64 `json:"open_rate_per_second,omitempty"`
	OpenFor      string  `json:"open_duration,omitempty"`
	OpenSetting  string  `json:"open_sender_setting,omitempty"`
	LoadBefore   float64 `json:"load_average_1m_before"`
	LoadAfter    float64 `json:"load_average_1m_after"`
	Runs         []dbRun `json:"runs"`
}

// deployment is the outcry processes of one setting on one database, and
// the fake SendGrid their senders send to.
type deployment struct {
	children []*child
	fake     *sgfake.Server
	urls     []string // the sign endpoint of each instance
}

// cpu is the CPU time the deployment's processes have used so far.
func (d *deployment) cpu() (float64, error) {
	total := 0.0
	for _, c := range d.children {
		s, err := c.cpuSeconds()
		if err != nil {
			return 0, err
		}
		total += s
	}
	return total, nil
}

// startDeployment starts s.Instances outcry processes on db, each with a
// folder of its own for its targets file (as on machines of their own),
// one after the other (the first applies the migrations).
func startDeployment(ctx context.Context, dir, bin, name string, s dbSetting, db string, sender []string) (*deployment, error) {
	slug, err := bundledSlug()
	if err != nil {
		return nil, err
	}
	d := &deployment{fake: sgfake.New()}
	d.fake.SetRecord(false)
	for i := range s.Instances {
		inst := fmt.Sprintf("%s-%d", name, i+1)
		instDir := filepath.Join(dir, inst)
		if err := os.MkdirAll(instDir, 0o755); err != nil {
			d.stop()
			return nil, err
		}
		addr, err := freeAddr()
		if err != nil {
			d.stop()
			return nil, err
		}
		c, err := startChild(ctx, inst, dir, addr, bin, nil, outcryEnvWith(addr, db, instDir, d.fake.URL(), sender))
		if err != nil {
			d.stop()
			return nil, err
		}
		d.children = append(d.children, c)
		d.urls = append(d.urls, c.url+"/api/v1/campaigns/"+slug+"/letters")
	}
	return d, nil
}

// stop stops every process (each gracefully, in turn) and the fake.
func (d *deployment) stop() error {
	var first error
	for _, c := range d.children {
		if err := c.stop(); err != nil && first == nil {
			first = err
		}
	}
	d.fake.Close()
	return first
}

// splitConns deals conns connections to n instances as evenly as can be,
// at least one each.
func splitConns(conns, n int) []int {
	each := make([]int, n)
	for i := range each {
		each[i] = conns / n
		if i < conns%n {
			each[i]++
		}
		each[i] = max(1, each[i])
	}
	return each
}

// mergeConcurrent combines load runs made at the same time against several
// instances: every latency and error counts, the time is the longest run's
// (not the sum: they ran side by side), so requests/s is the sum.
func mergeConcurrent(raws []loadRaw) loadRaw {
	var all loadRaw
	for _, r := range raws {
		all.lat = append(all.lat, r.lat...)
		all.errors += r.errors
		all.elapsed = max(all.elapsed, r.elapsed)
	}
	return all
}

// load runs the closed loop against every instance at once, each
// connection bound to one instance.
func (d *deployment) load(ctx context.Context, conns int, warm, dur time.Duration) []loadRaw {
	each := splitConns(conns, len(d.urls))
	raws := make([]loadRaw, len(d.urls))
	done := make(chan struct{})
	for i, u := range d.urls {
		go func() {
			raws[i] = runRaw(ctx, u, each[i], warm, dur)
			done <- struct{}{}
		}()
	}
	for range d.urls {
		<-done
	}
	return raws
}

// measureByDatabase is the section: without a PostgreSQL server it is
// skipped (res.Skipped says why).
func measureByDatabase(ctx context.Context, o options, dir, bin string, logf func(string, ...any)) (*dbResults, error) {
	res := &dbResults{Conns: o.conns, Duration: o.duration.String(), SignSendRate: o.signRate}
	if o.pg == "" {
		// One line, in the table (printByDatabase).
		res.Skipped = "no PostgreSQL server: pass -pg URL or set OUTCRY_TEST_PG (eval \"$(.ci/pg start)\" starts a throwaway one)"
		return res, nil
	}
	pg, err := openPGServer(ctx, o.pg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := pg.close(); err != nil {
			logf("%v", err)
		}
	}()
	res.Server, res.Version = redactedURL(o.pg), pg.Version
	res.LoadBefore = loadAvg()
	settings := dbSettings()
	// The names of the PostgreSQL databases, to find their server
	// processes' CPU time when the server runs here.
	pgNames := make([]string, len(settings))
	local := isLoopback(o.pg)
	newDB := func(i int, name string, s dbSetting) (string, error) {
		if s.Postgres {
			u, n, err := pg.create(ctx)
			pgNames[i] = n
			return u, err
		}
		return dataPath(dir, name+".db"), nil
	}

	// The closed loop: every setting running at once, measured in
	// interleaved rounds (as the sign endpoint and its baselines are) so
	// that the machine's other load weighs on the three alike. The
	// sender runs as in the sign run above.
	sender := []string{"OUTCRY_SEND_RATE=" + fmt.Sprint(o.signRate), "OUTCRY_TARGET_HOURLY_CAP=0", "OUTCRY_DOMAIN_HOURLY_CAP=0"}
	deps := make([]*deployment, len(settings))
	defer func() {
		for _, d := range deps {
			if d != nil {
				d.stop()
			}
		}
	}()
	for i, s := range settings {
		name := fmt.Sprintf("bydb-sign-%d", i+1)
		db, err := newDB(i, name, s)
		if err != nil {
			return nil, err
		}
		if deps[i], err = startDeployment(ctx, dir, bin, name, s, db, sender); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	rounds := 5
	if o.short {
		rounds = 2
	}
	res.Rounds = rounds
	per := o.duration / time.Duration(rounds)
	warmup := min(time.Second, o.duration/5)
	logf("sign path by database (PostgreSQL %s): %d rounds of %s each, %d connections", pg.Version, rounds, per, o.conns)
	all := make([]loadRaw, len(settings))
	each := make([][]loadRaw, len(settings))
	outcryCPU, pgCPU := make([]float64, len(settings)), make([]float64, len(settings))
	for r := range rounds {
		for i := range settings {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			warm := time.Duration(0)
			if r == 0 {
				warm = warmup
			}
			// CPU is counted over the whole round, warm-up included:
			// per request it is a little high in the first round.
			c0, err := deps[i].cpu()
			if err != nil {
				return nil, err
			}
			var p0 map[int]float64
			if local && pgNames[i] != "" {
				if p0, err = pg.backendCPU(ctx, pgNames[i]); err != nil {
					return nil, err
				}
			}
			raws := deps[i].load(ctx, o.conns, warm, per)
			c1, err := deps[i].cpu()
			if err != nil {
				return nil, err
			}
			outcryCPU[i] += c1 - c0
			if p0 != nil {
				p1, err := pg.backendCPU(ctx, pgNames[i])
				if err != nil {
					return nil, err
				}
				pgCPU[i] += cpuUsed(p0, p1)
			}
			all[i].add(mergeConcurrent(raws))
			if each[i] == nil {
				each[i] = make([]loadRaw, len(raws))
			}
			for k := range raws {
				each[i][k].add(raws[k])
			}
		}
	}
	for i, s := range settings {
		run := dbRun{dbSetting: s, Sign: all[i].summary(), SentDuring: deps[i].fake.Count()}
		ok := float64(max(1, run.Sign.Requests-run.Sign.Errors))
		run.OutcryCPUms = 1000 * outcryCPU[i] / ok
		if local && pgNames[i] != "" {
			v := 1000 * pgCPU[i] / ok
			run.PostgresCPUms = &v
		}
		if len(each[i]) > 1 {
			for _, e := range each[i] {
				run.PerInstance = append(run.PerInstance, e.summary())
			}
		}
		if err := deps[i].stop(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		deps[i] = nil
		logf("sign path, %s: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, %d errors of %d", s.Name, run.Sign.RPS, run.Sign.P50ms, run.Sign.P99ms, run.Sign.Errors, run.Sign.Requests)
		res.Runs = append(res.Runs, run)
	}

	// The open loop at one rate: each setting on a fresh database, in
	// turn, the sender on outcry's defaults (as the open loop above).
	if o.dbOpenRate > 0 {
		def := senderSettings()[0]
		res.OpenRate, res.OpenFor, res.OpenSetting = o.dbOpenRate, o.openFor.String(), def.Name
		cfg := openConfig{rate: o.dbOpenRate, duration: o.openFor, window: 10 * time.Second, maxInFlight: o.maxInFlight, timeout: o.timeout}
		for i, s := range settings {
			name := fmt.Sprintf("bydb-open-%d", i+1)
			db, err := newDB(i, name, s)
			if err != nil {
				return nil, err
			}
			d, err := startDeployment(ctx, dir, bin, name, s, db, def.Env)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			deps[i] = d
			r := runOpenTo(ctx, d.urls, cfg)
			sent := d.fake.Count()
			deps[i] = nil
			if err := d.stop(); err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			logf("open loop %g/s, %s: %s", o.dbOpenRate, s.Name, r.describe())
			res.Runs[i].Open, res.Runs[i].OpenSent = &r, sent
		}
	}
	res.LoadAfter = loadAvg()
	return res, nil
}

func printByDatabase(w io.Writer, r *dbResults, cpus int) {
	if r == nil {
		return
	}
	if r.Skipped != "" {
		fmt.Fprintf(w, "\nsign path by database: skipped (%s)\n", r.Skipped)
		return
	}
	fmt.Fprintf(w, "\nsign path by database: PostgreSQL %s at %s, on this machine through loopback beside the load generator and outcry;\n", r.Version, r.Server)
	fmt.Fprintf(w, "closed loop: %d connections, %s per setting in %d interleaved rounds, sender at %g/s (no cap); two instances: half the connections each.\n", r.Conns, r.Duration, r.Rounds, r.SignSendRate)
	if r.OpenRate > 0 {
		fmt.Fprintf(w, "open loop: %g letters/s for %s, a fresh database each, sender %s; two instances: arrivals dealt in turn.\n", r.OpenRate, r.OpenFor, r.OpenSetting)
	}
	fmt.Fprintf(w, "1-minute load average %.1f before, %.1f after (%d CPUs)\n\n", r.LoadBefore, r.LoadAfter, cpus)
	fmt.Fprintf(w, "%-34s %10s %8s %8s %16s %7s %7s   %9s %9s %9s %9s %7s\n", "setting", "requests/s", "p50 ms", "p99 ms", "errors/requests", "cpu out", "cpu pg",
		"open p50", "open p99", "open max", "accepted", "late ms")
	fmt.Fprintln(w, strings.Repeat("-", 148))
	open := func(o *openResult) string {
		if o == nil {
			return ""
		}
		return fmt.Sprintf("%9.2f %9.2f %9.1f %8.2f%% %7.1f", o.P50ms, o.P99ms, o.MaxMs, o.AcceptedPct, o.MaxLateMs)
	}
	for _, run := range r.Runs {
		name := run.Name
		if len(run.PerInstance) > 1 {
			name += " (sum)"
		}
		pgcpu := ""
		if run.PostgresCPUms != nil {
			pgcpu = fmt.Sprintf("%.3f", *run.PostgresCPUms)
		}
		fmt.Fprintf(w, "%-34s %10.0f %8.2f %8.2f %16s %7.3f %7s   %s\n", name, run.Sign.RPS, run.Sign.P50ms, run.Sign.P99ms,
			fmt.Sprintf("%d / %d", run.Sign.Errors, run.Sign.Requests), run.OutcryCPUms, pgcpu, open(run.Open))
		for k, e := range run.PerInstance {
			fmt.Fprintf(w, "%-34s %10.0f %8.2f %8.2f %16s\n", fmt.Sprintf("  instance %d", k+1), e.RPS, e.P50ms, e.P99ms,
				fmt.Sprintf("%d / %d", e.Errors, e.Requests))
		}
	}
	fmt.Fprintln(w, "(cpu out / cpu pg: CPU ms per sign request of the outcry processes / of the PostgreSQL server processes serving the database,\n closed loop, warm-up included; the load generator's own CPU is in neither. late ms: how late the open loop's generator sent\n its most delayed arrival; more than a few ms means the machine, not only the server, was saturated)")
}
