package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// The open loop offers letters at a fixed rate, the way supporters arrive:
// arrival i is due at start + i/rate on the clock and is sent then, in its
// own goroutine, whether or not earlier letters have been answered (a
// closed loop of N connections instead waits for each answer, so a slow
// server is offered less work and its latency hides: coordinated omission).
// Two bounds keep it safe on a shared machine: the duration (no arrival is
// scheduled after it; every request ends by the client timeout) and a hard
// cap on requests in flight (an arrival that finds the cap reached is not
// sent and counts as not accepted).

// outcome of one arrival.
type outcome uint8

const (
	outAccepted outcome = iota // a 2xx answer
	outRefused                 // an answer other than 2xx
	outTimeout                 // no answer within the client timeout
	outError                   // a transport error (connection refused, reset…)
	outCapped                  // not sent: the cap on requests in flight was reached
)

// openSample is one arrival: when it was due (from the start of the run),
// how long its request took (from the moment it was sent to the end of the
// answer's body), and how it ended.
type openSample struct {
	due time.Duration
	lat time.Duration
	out outcome
}

// openWindow is one window of the run, by arrival time.
type openWindow struct {
	FromS       float64 `json:"from_s"`
	ToS         float64 `json:"to_s"`
	Offered     int     `json:"offered"`
	Accepted    int     `json:"accepted"`
	AcceptedPct float64 `json:"accepted_percent"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
}

// openResult is what one open-loop run measured.
type openResult struct {
	Rate        float64      `json:"rate_per_second"`
	Seconds     float64      `json:"seconds"`
	Offered     int          `json:"offered"`
	Accepted    int          `json:"accepted"`
	AcceptedPct float64      `json:"accepted_percent"`
	Refused     int          `json:"refused_non_2xx"`
	Timeouts    int          `json:"timeouts"`
	Errors      int          `json:"transport_errors"`
	Capped      int          `json:"not_sent_in_flight_cap"`
	P50ms       float64      `json:"p50_ms"`
	P99ms       float64      `json:"p99_ms"`
	MaxMs       float64      `json:"max_ms"`
	MaxLateMs   float64      `json:"generator_max_late_ms"`
	MaxInFlight int          `json:"max_in_flight"`
	Windows     []openWindow `json:"windows"`
}

type openConfig struct {
	rate        float64       // arrivals per second
	duration    time.Duration // arrivals are scheduled over this long
	window      time.Duration // report per window of this length
	maxInFlight int           // hard cap on requests in flight
	timeout     time.Duration // client timeout of each request
	// postcode, when set, gives arrival i's postcode (area targeting);
	// else every letter has the same one.
	postcode func(i int) string
}

// runOpen offers unique letters to url at cfg.rate for cfg.duration and
// returns the figures. Latencies of answered and timed-out requests count in
// the percentiles (a timeout as the timeout); arrivals not sent because of
// the cap count only as not accepted.
func runOpen(ctx context.Context, url string, cfg openConfig) openResult {
	return runOpenTo(ctx, []string{url}, cfg)
}

// runOpenTo is runOpen with the arrivals dealt to urls in turn (several
// instances behind a round-robin proxy).
func runOpenTo(ctx context.Context, urls []string, cfg openConfig) openResult {
	n := min(int(cfg.rate*cfg.duration.Seconds()), maxRequestsPerRun)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.maxInFlight,
		MaxIdleConnsPerHost: cfg.maxInFlight,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.timeout}
	run := runSeq.Add(1)

	samples := make([]openSample, n) // each arrival writes only its own slot
	sem := make(chan struct{}, cfg.maxInFlight)
	var wg sync.WaitGroup
	var maxLate time.Duration
	maxInFlight := 0
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	sent := 0
	for i := range n {
		due := time.Duration(float64(i) * float64(time.Second) / cfg.rate)
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
		maxLate = max(maxLate, time.Since(start.Add(due)))
		select {
		case sem <- struct{}{}:
		default:
			samples[i] = openSample{due: due, out: outCapped}
			continue
		}
		maxInFlight = max(maxInFlight, len(sem))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			samples[i] = openSample{due: due}
			body := letterBody(run, 0, i)
			if cfg.postcode != nil {
				body = letterBodyAt(run, i, cfg.postcode(i))
			}
			samples[i].lat, samples[i].out = postLetter(ctx, client, urls[i%len(urls)], body)
		}()
	}
	wg.Wait()
	r := summarizeOpen(samples[:sent], cfg.window)
	r.Rate, r.Seconds = cfg.rate, cfg.duration.Seconds()
	r.MaxLateMs, r.MaxInFlight = ms(maxLate), maxInFlight
	return r
}

// postLetter sends one letter and classifies the result.
func postLetter(ctx context.Context, client *http.Client, url string, body []byte) (time.Duration, outcome) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", clientIP())
	t0 := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	d := time.Since(t0)
	var ne net.Error
	switch {
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		return d, outTimeout
	case err != nil:
		return d, outError
	case resp.StatusCode/100 != 2:
		return d, outRefused
	}
	return d, outAccepted
}

func summarizeOpen(samples []openSample, window time.Duration) openResult {
	var r openResult
	r.Offered = len(samples)
	var all []time.Duration
	var perWin [][]time.Duration
	var wins []openWindow
	for _, s := range samples {
		w := 0
		if window > 0 {
			w = int(s.due / window)
		}
		for len(wins) <= w {
			k := len(wins)
			wins = append(wins, openWindow{FromS: (time.Duration(k) * window).Seconds(), ToS: (time.Duration(k+1) * window).Seconds()})
			perWin = append(perWin, nil)
		}
		wins[w].Offered++
		switch s.out {
		case outAccepted:
			r.Accepted++
			wins[w].Accepted++
		case outRefused:
			r.Refused++
		case outTimeout:
			r.Timeouts++
		case outError:
			r.Errors++
		case outCapped:
			r.Capped++
			continue
		}
		all = append(all, s.lat)
		perWin[w] = append(perWin[w], s.lat)
	}
	r.AcceptedPct = pct(r.Accepted, r.Offered)
	r.P50ms, r.P99ms, r.MaxMs = percentiles(all)
	for k := range wins {
		_, wins[k].P99ms, wins[k].MaxMs = percentiles(perWin[k])
		wins[k].AcceptedPct = pct(wins[k].Accepted, wins[k].Offered)
	}
	r.Windows = wins
	return r
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// percentiles returns p50, p99 and max in milliseconds (nearest rank).
func percentiles(lat []time.Duration) (p50, p99, most float64) {
	if len(lat) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	rank := func(p int) time.Duration { return s[max(0, (len(s)*p+99)/100-1)] }
	return ms(rank(50)), ms(rank(99)), ms(s[len(s)-1])
}

// describe is one line for a log.
func (r openResult) describe() string {
	return fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, max %.1f ms, accepted %.2f %% of %d (timeouts %d, errors %d, non-2xx %d, not sent %d)",
		r.P50ms, r.P99ms, r.MaxMs, r.AcceptedPct, r.Offered, r.Timeouts, r.Errors, r.Refused, r.Capped)
}
