package main

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/outcry/outcry/internal/sendlog"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/store"
)

// senderSetting is one configuration of outcry's sender during an open-loop
// run: the three of issue 17.
type senderSetting struct {
	Name string   `json:"name"`
	Env  []string `json:"env"` // none: outcry's defaults
}

func senderSettings() []senderSetting {
	d := config.Default()
	return []senderSetting{
		{Name: fmt.Sprintf("defaults (%g/s, cap %d/h)", d.SendRate, d.TargetHourlyCap)},
		{Name: fmt.Sprintf("rate 0, cap %d/h", d.TargetHourlyCap), Env: []string{"OUTCRY_SEND_RATE=0", fmt.Sprintf("OUTCRY_TARGET_HOURLY_CAP=%d", d.TargetHourlyCap)}},
		{Name: "rate 0, no cap", Env: []string{"OUTCRY_SEND_RATE=0", "OUTCRY_TARGET_HOURLY_CAP=0", "OUTCRY_DOMAIN_HOURLY_CAP=0"}},
	}
}

// openRun is one server measured by the open loop.
type openRun struct {
	Server  string `json:"server"`
	Setting string `json:"sender_setting,omitempty"`
	openResult
	SentDuring  int     `json:"sent_by_sender"`
	QueuedAfter int     `json:"queued_after"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	// LoadAvg is the machine's 1-minute load average when the run began
	// (the machine may be shared: compare it with the number of CPUs).
	LoadAvg float64 `json:"load_average_1m"`
	// CPUPerLetterMs is the server process's CPU time (user + system,
	// sender included) during the run divided by the letters offered: a
	// figure that depends much less on the machine's other load than the
	// latencies do.
	CPUPerLetterMs float64 `json:"server_cpu_ms_per_letter"`
}

// loadAvg is the 1-minute load average from /proc/loadavg (0 if unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

const baselineName = "baseline validate + 1-row insert"

// measureOpen runs the open loop at each rate against the insert baseline
// and outcry in each sender setting, in that order for each rate. Every
// measurement starts its own process on an empty database, so that each
// starts from the same state (no backlog from the rate before).
func measureOpen(ctx context.Context, o options, dir, bin, self string, logf func(string, ...any)) ([]openRun, error) {
	var runs []openRun
	seq := 0
	for _, rate := range o.openRates {
		cfg := openConfig{rate: rate, duration: o.openFor, window: 10 * time.Second, maxInFlight: o.maxInFlight, timeout: o.timeout}
		seq++
		r, err := openBaseline(ctx, dir, self, fmt.Sprintf("open-%d-baseline", seq), cfg)
		if err != nil {
			return nil, err
		}
		logf("open loop %g/s, %s: %s", rate, r.Server, r.describe())
		runs = append(runs, r)
		for _, s := range senderSettings() {
			seq++
			r, err := openOutcry(ctx, dir, bin, fmt.Sprintf("open-%d-outcry", seq), s, cfg)
			if err != nil {
				return nil, err
			}
			logf("open loop %g/s, outcry %s: %s", rate, s.Name, r.describe())
			runs = append(runs, r)
		}
	}
	return runs, nil
}

func openBaseline(ctx context.Context, dir, self, name string, cfg openConfig) (openRun, error) {
	addr, err := freeAddr()
	if err != nil {
		return openRun{}, err
	}
	c, err := startChild(ctx, name, dir, addr, self,
		[]string{"-serve-baseline", "insert", "-addr", addr, "-db", dataPath(dir, name+".db")}, nil)
	if err != nil {
		return openRun{}, err
	}
	defer c.stop()
	r, err := openOn(ctx, c, c.url+"/api/v1/campaigns/x/letters", cfg)
	if err != nil {
		return openRun{}, err
	}
	if err := c.stop(); err != nil {
		return openRun{}, err
	}
	r.Server = baselineName
	return r, nil
}

// openOn runs the open loop against a server child at url and measures
// the child: its CPU per letter offered, its peak RSS, the load at the start.
func openOn(ctx context.Context, c *child, url string, cfg openConfig) (openRun, error) {
	load := loadAvg()
	cpu0, err := c.cpuSeconds()
	if err != nil {
		return openRun{}, err
	}
	res := runOpen(ctx, url, cfg)
	cpu1, err := c.cpuSeconds()
	if err != nil {
		return openRun{}, err
	}
	rss, err := c.peakRSS()
	if err != nil {
		return openRun{}, err
	}
	return openRun{openResult: res, PeakRSSMiB: rss, LoadAvg: load,
		CPUPerLetterMs: 1000 * (cpu1 - cpu0) / float64(max(res.Offered, 1))}, nil
}

// openOutcry measures the real binary's sign endpoint, its sender running
// in setting s and sending through the real SendGrid mailer to the fake.
func openOutcry(ctx context.Context, dir, bin, name string, s senderSetting, cfg openConfig) (openRun, error) {
	slug, err := bundledSlug()
	if err != nil {
		return openRun{}, err
	}
	fake := sgfake.New()
	defer fake.Close()
	fake.SetRecord(false)
	addr, err := freeAddr()
	if err != nil {
		return openRun{}, err
	}
	db := dataPath(dir, name+".db")
	c, err := startChild(ctx, name, dir, addr, bin, nil, outcryEnvWith(addr, db, dir, fake.URL(), s.Env))
	if err != nil {
		return openRun{}, err
	}
	defer c.stop()
	r, err := openOn(ctx, c, c.url+"/api/v1/campaigns/"+slug+"/letters", cfg)
	if err != nil {
		return openRun{}, err
	}
	r.SentDuring = fake.Count()
	if err := c.stop(); err != nil {
		return openRun{}, err
	}
	if r.QueuedAfter, err = countQueued(ctx, db); err != nil {
		return openRun{}, err
	}
	r.Server, r.Setting = "outcry sign", s.Name
	return r, nil
}

func countQueued(ctx context.Context, db string) (int, error) {
	conn, err := sql.Open("sqlite", store.DSN(db))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE status = '`+string(sendlog.Queued)+`'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count queued in %s: %w", db, err)
	}
	return n, nil
}

// measureViral is the viral minute of issue 17: outcry on its defaults,
// o.viralRate letters/s for o.viral, reported per 10 s window (per minute
// when the run is longer than two minutes).
func measureViral(ctx context.Context, o options, dir, bin string, logf func(string, ...any)) (openRun, error) {
	window := 10 * time.Second
	if o.viral > 2*time.Minute {
		window = time.Minute
	}
	cfg := openConfig{rate: o.viralRate, duration: o.viral, window: window, maxInFlight: o.maxInFlight, timeout: o.timeout}
	s := senderSettings()[0]
	logf("viral run: %g letters/s for %s, outcry %s", o.viralRate, o.viral, s.Name)
	r, err := openOutcry(ctx, dir, bin, "viral-outcry", s, cfg)
	if err != nil {
		return openRun{}, err
	}
	logf("viral run: %s", r.describe())
	return r, nil
}

// The goals of issues 10 and 17 for the open loop at 1,000 letters/s.
const (
	goalRate        = 1000
	goalP99ms       = 25
	goalMaxMs       = 250
	goalAcceptedPct = 99.9
)

func openMet(r openRun) bool {
	return r.P99ms <= goalP99ms && r.MaxMs <= goalMaxMs && r.AcceptedPct >= goalAcceptedPct
}

func printOpen(w io.Writer, runs []openRun, timeout time.Duration, maxInFlight int) {
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nopen loop: a fixed arrival rate, each letter its own request (unique address), %s client timeout, at most %d in flight;\n", timeout, maxInFlight)
	fmt.Fprintf(w, "every server a fresh process on an empty database. Goal for outcry at %d/s: p99 <= %d ms, max <= %d ms, accepted >= %g %%\n\n", goalRate, goalP99ms, goalMaxMs, goalAcceptedPct)
	fmt.Fprintf(w, "%6s  %-44s %8s %8s %8s %9s %6s %6s %6s %6s %7s %7s %5s %6s %5s  %s\n",
		"rate/s", "server (sender setting)", "p50 ms", "p99 ms", "max ms", "accepted", "t/out", "errors", "non2xx", "capped", "sent", "queued", "RSS", "cpu ms", "load", "")
	fmt.Fprintln(w, strings.Repeat("-", 163))
	for _, r := range runs {
		name := r.Server
		if r.Setting != "" {
			name += " (" + r.Setting + ")"
		}
		mark := ""
		if r.Server != baselineName && r.Rate == goalRate {
			mark = "met"
			if !openMet(r) {
				mark = "MISSED"
			}
		}
		sent, queued := "", ""
		if r.Server != baselineName {
			sent, queued = fmt.Sprint(r.SentDuring), fmt.Sprint(r.QueuedAfter)
		}
		fmt.Fprintf(w, "%6g  %-44s %8.2f %8.2f %8.1f %8.2f%% %6d %6d %6d %6d %7s %7s %5.1f %6.3f %5.1f  %s\n",
			r.Rate, name, r.P50ms, r.P99ms, r.MaxMs, r.AcceptedPct, r.Timeouts, r.Errors, r.Refused, r.Capped, sent, queued, r.PeakRSSMiB, r.CPUPerLetterMs, r.LoadAvg, mark)
	}
	fmt.Fprintln(w, "(sent: messages the fake SendGrid received during the run; queued: messages still queued when the server stopped; RSS: peak MiB;\n cpu ms: the server process's CPU time per letter offered, sender included; load: 1-minute load average at the start)")
	lateMost := 0.0
	for _, r := range runs {
		lateMost = max(lateMost, r.MaxLateMs)
	}
	fmt.Fprintf(w, "the load generator sent its most delayed arrival %.1f ms after it was due\n", lateMost)
	for _, r := range runs {
		if len(r.Windows) > 1 {
			printWindows(w, fmt.Sprintf("%g/s %s %s", r.Rate, r.Server, r.Setting), r)
		}
	}
}

func printWindows(w io.Writer, title string, r openRun) {
	fmt.Fprintf(w, "\n%s, per window of arrivals:\n", title)
	fmt.Fprintf(w, "%12s %9s %9s %10s %9s\n", "seconds", "p99 ms", "max ms", "accepted", "offered")
	for _, x := range r.Windows {
		fmt.Fprintf(w, "%5.0f–%-6.0f %9.2f %9.1f %9.2f%% %9d\n", x.FromS, x.ToS, x.P99ms, x.MaxMs, x.AcceptedPct, x.Offered)
	}
}

func printViral(w io.Writer, r openRun, timeout time.Duration) {
	fmt.Fprintf(w, "\nviral run: %g letters/s offered for %.0f s to outcry (%s), unique addresses, %s client timeout\n",
		r.Rate, r.Seconds, r.Setting, timeout)
	fmt.Fprintf(w, "whole run: %s\n", r.describe())
	fmt.Fprintf(w, "sent by the sender meanwhile: %d; messages queued when it stopped: %d; peak RSS %.1f MiB; server CPU %.3f ms per letter offered;\ngenerator's most delayed arrival %.1f ms; load average %.1f at the start (%d CPUs)\n",
		r.SentDuring, r.QueuedAfter, r.PeakRSSMiB, r.CPUPerLetterMs, r.MaxLateMs, r.LoadAvg, numCPU())
	mark := "met"
	if r.P99ms > goalP99ms || r.MaxMs > goalMaxMs || r.Accepted != r.Offered {
		mark = "MISSED"
	}
	fmt.Fprintf(w, "goal (every letter accepted, p99 <= %d ms, none over %d ms): %s\n", goalP99ms, goalMaxMs, mark)
	printWindows(w, "viral run", r)
}
