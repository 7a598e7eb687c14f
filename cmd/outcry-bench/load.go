package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one load run measured.
type loadResult struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"requests_per_second"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// maxRequestsPerRun bounds a run by count as well as by time.
const maxRequestsPerRun = 5_000_000

var runSeq, clientSeq atomic.Int64

// clientIP is a fresh address in 10.0.0.0/8 for each request: outcry (told
// to trust the loopback proxy) then sees a crowd of writers, as in a viral
// campaign, and its per-IP submission limit runs without refusing them.
func clientIP() string {
	n := clientSeq.Add(1) & 0xffffff
	return fmt.Sprintf("10.%d.%d.%d", n>>16, (n>>8)&0xff, n&0xff)
}

// letterBody is a valid JSON letter with an address unique to this process.
func letterBody(run int64, worker, i int) []byte {
	return fmt.Appendf(nil, `{"first_name":"Ada","last_name":"Bench","email":"bench-%d-%d-%d@example.org",`+
		`"postcode":"EC1A 1BB","subject":"Please stop the series","body":"Dear decision-maker,\n\nI am writing to ask you to stop the series. `+
		`It presents a crime as entertainment and the people it harmed deserve better.\n\nThank you for reading.",`+
		`"consent_updates":false,"accept_privacy":true}`, run, worker, i)
}

// letterBodyAt is letterBody from the given postcode (area targeting).
func letterBodyAt(run int64, i int, postcode string) []byte {
	return fmt.Appendf(nil, `{"first_name":"Ada","last_name":"Bench","email":"bench-%d-area-%d@example.org",`+
		`"postcode":%q,"subject":"Please act","body":"I am writing to you as my representative: please act.",`+
		`"consent_updates":false,"accept_privacy":true}`, run, i, postcode)
}

// loadRaw is what one or more load rounds measured, before summary.
type loadRaw struct {
	lat     []time.Duration
	errors  int64
	elapsed time.Duration
}

func (a *loadRaw) add(b loadRaw) {
	a.lat = append(a.lat, b.lat...)
	a.errors += b.errors
	a.elapsed += b.elapsed
}

// runLoad posts unique letters to url from conns connections for warmup
// (not counted) and then dur, and returns the counted figures. Only 2xx
// answers count as successes; everything else is an error.
func runLoad(ctx context.Context, url string, conns int, warmup, dur time.Duration) loadResult {
	return runRaw(ctx, url, conns, warmup, dur).summary()
}

func runRaw(ctx context.Context, url string, conns int, warmup, dur time.Duration) loadRaw {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	run := runSeq.Add(1)

	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(dur)
	var total atomic.Int64
	lat := make([][]time.Duration, conns)
	errs := make([]int64, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if ctx.Err() != nil || total.Add(1) > maxRequestsPerRun {
					return
				}
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(letterBody(run, w, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", clientIP())
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode/100 == 2
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				lat[w] = append(lat[w], d)
				if !ok {
					errs[w]++
				}
			}
		}()
	}
	wg.Wait()
	raw := loadRaw{elapsed: time.Since(measureFrom)}
	for w := range conns {
		raw.lat = append(raw.lat, lat[w]...)
		raw.errors += errs[w]
	}
	return raw
}

func (raw loadRaw) summary() loadResult {
	all := slices.Clone(raw.lat)
	slices.Sort(all)
	r := loadResult{Errors: raw.errors}
	r.Requests = int64(len(all))
	r.Seconds = raw.elapsed.Seconds()
	r.RPS = float64(r.Requests-r.Errors) / r.Seconds
	if len(all) > 0 {
		r.P50ms = ms(all[len(all)*50/100])
		r.P99ms = ms(all[min(len(all)-1, len(all)*99/100)])
		r.MaxMs = ms(all[len(all)-1])
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
