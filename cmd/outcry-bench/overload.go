package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/store"
)

// The overload run (issue 29): outcry on its defaults is offered more
// letters than it can take, and must neither collapse nor keep what it
// cannot answer. In one run:
//
//  1. the insert baseline at 1,000 letters/s (open loop): the machine's
//     state (if its p99 is over 15 ms, the machine is too loaded to judge);
//  2. outcry's closed-loop capacity: -conns connections, fresh process;
//  3. a fresh outcry offered -overload-rate letters/s for -overload
//     (open loop, each letter its own request): every answer must be 202,
//     or 503 with Retry-After, within 2 s; letters accepted per second
//     against the capacity of step 2; peak RSS; and afterwards every letter
//     answered 202 must be in the database.
type overloadResult struct {
	Started time.Time `json:"started"`
	CPUs    int       `json:"cpus"`

	Baseline openRun `json:"baseline_1000_per_s"`

	CapacityRPS   float64 `json:"closed_loop_capacity_letters_per_s"`
	CapacityP99ms float64 `json:"closed_loop_p99_ms"`
	CapacityConns int     `json:"closed_loop_connections"`
	CapacityLoad  float64 `json:"closed_loop_load_average_1m"`

	Rate        float64          `json:"offered_per_s"`
	Seconds     float64          `json:"seconds"`
	LoadAvg     float64          `json:"load_average_1m"`
	Offered     int              `json:"offered"`
	Accepted    int              `json:"accepted_202"`
	Shed        int              `json:"shed_503_retry_after"`
	Other       int              `json:"other_answers"` // neither 202 nor 503 with Retry-After
	Timeouts    int              `json:"timeouts"`
	Errors      int              `json:"transport_errors"`
	Capped      int              `json:"not_sent_in_flight_cap"`
	Late        int              `json:"answered_after_2s"`
	P50ms       float64          `json:"p50_ms"`
	P99ms       float64          `json:"p99_ms"`
	MaxMs       float64          `json:"max_ms"`
	AcceptedPS  float64          `json:"accepted_per_s"`
	OfCapacity  float64          `json:"accepted_over_capacity"`
	PeakRSSMiB  float64          `json:"peak_rss_mib"`
	RestRSSMiB  float64          `json:"rss_at_rest_mib"` // before the overload began
	Missing     int              `json:"accepted_missing_from_db"`
	MaxInFlight int              `json:"max_in_flight"`
	Windows     []overloadWindow `json:"windows"`
}

// overloadWindow is one window of the overload run, by arrival time.
type overloadWindow struct {
	FromS    float64 `json:"from_s"`
	Offered  int     `json:"offered"`
	Accepted int     `json:"accepted_202"`
	Shed     int     `json:"shed_503"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Goals of issue 29 for the overload run.
const (
	overloadAnswerWithin = 2 * time.Second
	overloadRSSMiB       = 256
	overloadOfCapacity   = 0.90
	baselineTooLoadedMs  = 15
)

func runOverloadBench(ctx context.Context, o options, logw io.Writer) (*overloadResult, error) {
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
	slug, err := bundledSlug()
	if err != nil {
		return nil, err
	}
	res := &overloadResult{Started: time.Now().UTC(), CPUs: numCPU(), Rate: o.overloadRate, Seconds: o.overload.Seconds(), CapacityConns: o.conns}
	baseFor := 5 * time.Second
	capFor := 10 * time.Second
	if o.short {
		baseFor, capFor = time.Second, 2*time.Second
	}

	// 1. The baseline.
	res.Baseline, err = openBaseline(ctx, dir, self, "overload-baseline",
		openConfig{rate: goalRate, duration: baseFor, window: baseFor, maxInFlight: o.maxInFlight, timeout: o.timeout})
	if err != nil {
		return nil, err
	}
	logf("overload: baseline at %d/s: %s", goalRate, res.Baseline.describe())

	// 2. The closed-loop capacity.
	fake := sgfake.New()
	defer fake.Close()
	fake.SetRecord(false)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c, err := startChild(ctx, "overload-capacity", dir, addr, bin, nil, outcryEnvWith(addr, dataPath(dir, "overload-capacity.db"), dir, fake.URL(), nil))
	if err != nil {
		return nil, err
	}
	res.CapacityLoad = loadAvg()
	capRun := runRaw(ctx, c.url+"/api/v1/campaigns/"+slug+"/letters", o.conns, min(time.Second, capFor/5), capFor).summary()
	if err := c.stop(); err != nil {
		return nil, err
	}
	res.CapacityRPS, res.CapacityP99ms = capRun.RPS, capRun.P99ms
	logf("overload: closed-loop capacity %.0f letters/s (p99 %.1f ms, %d connections, %d errors)", capRun.RPS, capRun.P99ms, o.conns, capRun.Errors)

	// 3. The overload.
	if addr, err = freeAddr(); err != nil {
		return nil, err
	}
	db := dataPath(dir, "overload.db")
	c, err = startChild(ctx, "overload", dir, addr, bin, nil, outcryEnvWith(addr, db, dir, fake.URL(), nil))
	if err != nil {
		return nil, err
	}
	defer c.stop()
	res.LoadAvg = loadAvg()
	res.RestRSSMiB, _ = procStatusMiB(c.cmd.Process.Pid, "VmRSS:")
	logf("overload: %g letters/s for %s, outcry on its defaults", o.overloadRate, o.overload)
	arrivals, maxInFlight := offerOverload(ctx, c.url+"/api/v1/campaigns/"+slug+"/letters", o.overloadRate, o.overload, o.maxInFlight, o.timeout)
	res.MaxInFlight = maxInFlight
	if res.PeakRSSMiB, err = c.peakRSS(); err != nil {
		return nil, err
	}
	if err := c.stop(); err != nil {
		return nil, err
	}
	stored, err := storedAddresses(ctx, db)
	if err != nil {
		return nil, err
	}
	var lat []time.Duration
	window := max(time.Second, o.overload/10)
	var winLat [][]time.Duration
	for _, a := range arrivals {
		k := int(a.due / window)
		for len(res.Windows) <= k {
			res.Windows = append(res.Windows, overloadWindow{FromS: (time.Duration(len(res.Windows)) * window).Seconds()})
			winLat = append(winLat, nil)
		}
		res.Windows[k].Offered++
		if a.out != outCapped {
			winLat[k] = append(winLat[k], a.lat)
		}
		if a.status == http.StatusAccepted {
			res.Windows[k].Accepted++
		} else if a.status == http.StatusServiceUnavailable {
			res.Windows[k].Shed++
		}
		res.Offered++
		switch a.out {
		case outCapped:
			res.Capped++
			continue
		case outTimeout:
			res.Timeouts++
		case outError:
			res.Errors++
		default:
			switch {
			case a.status == http.StatusAccepted:
				res.Accepted++
				if !stored[a.email] {
					res.Missing++
				}
			case a.status == http.StatusServiceUnavailable && a.retryAfter:
				res.Shed++
			default:
				res.Other++
			}
		}
		if a.lat > overloadAnswerWithin || a.out == outTimeout {
			res.Late++
		}
		lat = append(lat, a.lat)
	}
	res.P50ms, res.P99ms, res.MaxMs = percentiles(lat)
	for k := range res.Windows {
		res.Windows[k].P50ms, res.Windows[k].P99ms, res.Windows[k].MaxMs = percentiles(winLat[k])
	}
	res.AcceptedPS = float64(res.Accepted) / o.overload.Seconds()
	res.OfCapacity = ratio(res.AcceptedPS, res.CapacityRPS)
	return res, nil
}

// overloadArrival is one letter of the overload run.
type overloadArrival struct {
	due        time.Duration
	email      string
	lat        time.Duration
	out        outcome
	status     int
	retryAfter bool
}

// offerOverload is the open loop (open.go) keeping each answer's status,
// Retry-After and address.
func offerOverload(ctx context.Context, url string, rate float64, dur time.Duration, maxInFlight int, timeout time.Duration) ([]overloadArrival, int) {
	n := min(int(rate*dur.Seconds()), maxRequestsPerRun)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxInFlight,
		MaxIdleConnsPerHost: maxInFlight,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout}
	run := runSeq.Add(1)
	out := make([]overloadArrival, n)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	most := 0
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	sent := 0
	for i := range n {
		due := time.Duration(float64(i) * float64(time.Second) / rate)
		if wait := time.Until(start.Add(due)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		sent = i + 1
		out[i].due = due
		out[i].email = fmt.Sprintf("bench-%d-%d-%d@example.org", run, 0, i) // letterBody's address
		select {
		case sem <- struct{}{}:
		default:
			out[i].out = outCapped
			continue
		}
		most = max(most, len(sem))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a := &out[i]
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(letterBody(run, 0, i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", clientIP())
			t0 := time.Now()
			resp, err := client.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After") != ""
			}
			a.lat = time.Since(t0)
			var ne net.Error
			switch {
			case err != nil && errors.As(err, &ne) && ne.Timeout():
				a.out = outTimeout
			case err != nil:
				a.out = outError
			case a.status/100 == 2:
				a.out = outAccepted
			default:
				a.out = outRefused
			}
		}()
	}
	wg.Wait()
	return out[:sent], most
}

// storedAddresses are the supporters' addresses in the SQLite file db.
func storedAddresses(ctx context.Context, db string) (map[string]bool, error) {
	conn, err := sql.Open("sqlite", store.DSN(db))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT email FROM supporters`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", db, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out[e] = true
	}
	return out, rows.Err()
}

func printOverload(w io.Writer, r *overloadResult) {
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	fmt.Fprintf(w, "\noverload run (%d CPUs), outcry on its defaults (OUTCRY_MAX_PENDING's default), each step a fresh process\n", r.CPUs)
	b := r.Baseline
	note := ""
	if b.P99ms > baselineTooLoadedMs {
		note = fmt.Sprintf("  THE MACHINE IS TOO LOADED TO JUDGE (baseline p99 over %d ms)", baselineTooLoadedMs)
	}
	fmt.Fprintf(w, "baseline (validate + 1-row insert) at %d/s: p99 %.2f ms, max %.1f ms, load %.1f%s\n", goalRate, b.P99ms, b.MaxMs, b.LoadAvg, note)
	fmt.Fprintf(w, "closed-loop capacity: %.0f letters/s (%d connections, p99 %.1f ms, load %.1f)\n", r.CapacityRPS, r.CapacityConns, r.CapacityP99ms, r.CapacityLoad)
	fmt.Fprintf(w, "offered %g letters/s for %.0f s (%d letters, load %.1f at the start; at most %d in flight, %d not sent for that cap)\n",
		r.Rate, r.Seconds, r.Offered, r.LoadAvg, r.MaxInFlight, r.Capped)
	fmt.Fprintf(w, "answers: %d × 202, %d × 503 with Retry-After, %d other, %d timeouts, %d transport errors\n", r.Accepted, r.Shed, r.Other, r.Timeouts, r.Errors)
	fmt.Fprintf(w, "latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.P50ms, r.P99ms, r.MaxMs)
	fmt.Fprintf(w, "%-60s %-22s %s\n", "every request answered (202, or 503 + Retry-After) within 2 s",
		fmt.Sprintf("%d late or unanswered", r.Late+r.Other+r.Errors+r.Capped), mark(r.Late == 0 && r.Other == 0 && r.Errors == 0 && r.Capped == 0))
	fmt.Fprintf(w, "%-60s %-22s %s\n", "accepted/s >= 90 % of the closed-loop capacity",
		fmt.Sprintf("%.0f/s = %.0f %%", r.AcceptedPS, 100*r.OfCapacity), mark(r.OfCapacity >= overloadOfCapacity))
	fmt.Fprintf(w, "%-60s %-22s %s\n", "peak RSS <= 256 MB (VmHWM)", fmt.Sprintf("%.1f MiB", r.PeakRSSMiB), mark(r.PeakRSSMiB <= overloadRSSMiB))
	fmt.Fprintf(w, "  (RSS at rest before the overload %.1f MiB; the client held at most %d requests in flight)\n", r.RestRSSMiB, r.MaxInFlight)
	fmt.Fprintf(w, "%-60s %-22s %s\n", "every 202 letter in the database afterwards", fmt.Sprintf("%d missing", r.Missing), mark(r.Missing == 0))
	fmt.Fprintf(w, "\nper window of arrivals:\n%8s %8s %8s %8s %9s %9s %9s\n", "from s", "offered", "202", "503", "p50 ms", "p99 ms", "max ms")
	for _, x := range r.Windows {
		fmt.Fprintf(w, "%8.0f %8d %8d %8d %9.1f %9.1f %9.1f\n", x.FromS, x.Offered, x.Accepted, x.Shed, x.P50ms, x.P99ms, x.MaxMs)
	}
}
