// Package metrics is outcry's Prometheus metrics, served at /metrics (behind
// the admin token) on a registry of their own.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/outcry/outcry/internal/pushback"
	"github.com/outcry/outcry/internal/sendlog"
)

// Metrics are outcry's Prometheus metrics, on their own registry. Counters
// are fed by hooks (letter.Service.Observe, delivery.Options.Observer);
// message counts, supporters and queue depth are read from the database at
// scrape time, per campaign.
type Metrics struct {
	reg        *prometheus.Registry
	accepted   prometheus.Counter
	duplicates prometheus.Counter
	latency    prometheus.Histogram
	responses  *prometheus.CounterVec
}

// Store is what the metrics read at scrape time.
type Store interface {
	StatusCounts(ctx context.Context, campaign string) (map[string]int, error)
	SupporterCount(ctx context.Context, campaign string) (int, error)
	WriteFailures() int64
	// ReplyCounts: inbound email by kind, follow-up answers by answer.
	ReplyCounts(ctx context.Context, campaign string) (kinds, answers map[string]int, err error)
}

// New builds the metrics over st, for the campaigns campaigns lists.
func New(st Store, campaigns func() []string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outcry_letters_accepted_total", Help: "New letters stored (one per supporter).",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outcry_letters_duplicate_total", Help: "Letters from an address that had already written (nothing stored).",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "outcry_send_duration_seconds", Help: "Time the mail provider took to answer one send.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outcry_provider_responses_total", Help: "Provider answers to sends, by class (ok, temporary, permanent, rate-limited, unauthorized).",
		}, []string{"class"}),
	}
	for _, c := range []string{"ok", "temporary", "permanent", "rate-limited", "unauthorized"} {
		m.responses.WithLabelValues(c)
	}
	m.reg.MustRegister(m.accepted, m.duplicates, m.latency, m.responses,
		&dbCollector{st: st, campaigns: campaigns},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SignPath registers the sign path's bound (OUTCRY_MAX_PENDING): the
// letters in it now and the letters shed (refused with 503) since start.
func (m *Metrics) SignPath(pending func() int, max int, shed func() int64) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "outcry_letters_shed_total",
			Help: "Letters refused with 503 because OUTCRY_MAX_PENDING letters were already in the sign path (nothing stored; the writer was asked to send again).",
		}, func() float64 { return float64(shed()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "outcry_letters_pending", Help: "Letters in the sign path now (being checked or waiting for their group commit).",
		}, func() float64 { return float64(pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "outcry_letters_pending_max", Help: "OUTCRY_MAX_PENDING: the most letters in the sign path at once.",
		}, func() float64 { return float64(max) }),
	)
}

// WAL registers the size of SQLite's write-ahead log (bytes; 0 on
// PostgreSQL), kept short by checkpoints off the writer's path.
func (m *Metrics) WAL(bytes func() int64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "outcry_sqlite_wal_bytes", Help: "Size of the SQLite write-ahead log file at the last look (every quarter second); 0 on PostgreSQL.",
	}, func() float64 { return float64(bytes()) }))
}

// ObserveLetter counts an accepted letter (hook for letter.Service.Observe).
func (m *Metrics) ObserveLetter(created bool) {
	if created {
		m.accepted.Inc()
	} else {
		m.duplicates.Inc()
	}
}

// ObserveSend records one send attempt (hook for delivery.Options.Observer):
// how long it took and its class, "ok" or the kind of its failure
// (delivery.ErrorKind's name).
func (m *Metrics) ObserveSend(took time.Duration, class string) {
	m.latency.Observe(took.Seconds())
	m.responses.WithLabelValues(class).Inc()
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	messagesDesc = prometheus.NewDesc("outcry_messages", "Messages in the send log by campaign and status.", []string{"campaign", "status"}, nil)
	queueDesc    = prometheus.NewDesc("outcry_queue_depth", "Messages waiting to be sent (queued or being sent), all campaigns.", nil, nil)
	supDesc      = prometheus.NewDesc("outcry_supporters", "Supporters who have written, by campaign.", []string{"campaign"}, nil)
	repliesDesc  = prometheus.NewDesc("outcry_replies_total",
		"Replies written by a person received through the reply relay, by campaign, held ones included (automatic answers: outcry_acknowledgements_total).", []string{"campaign"}, nil)
	acksDesc = prometheus.NewDesc("outcry_acknowledgements_total",
		"Automatic answers (out-of-office, acknowledgements) captured through the reply relay, by campaign.", []string{"campaign"}, nil)
	answersDesc = prometheus.NewDesc("outcry_followup_answers_total",
		"Supporters' answers to the follow-up (did the decision-maker reply?), by campaign and answer (yes, acknowledgement, no).", []string{"campaign", "answer"}, nil)
	writeFailDesc = prometheus.NewDesc("outcry_store_write_failures_total",
		"Database writes that failed for a storage reason (locked, disk full, I/O error, read-only) since start.", nil, nil)
)

// dbCollector reads counts from the database at scrape time.
type dbCollector struct {
	st        Store
	campaigns func() []string
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- queueDesc
	ch <- supDesc
	ch <- writeFailDesc
	ch <- repliesDesc
	ch <- acksDesc
	ch <- answersDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(writeFailDesc, prometheus.CounterValue, float64(c.st.WriteFailures()))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depth := 0
	for _, camp := range c.campaigns() {
		counts, err := c.st.StatusCounts(ctx, camp)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(messagesDesc, err)
			return
		}
		for _, s := range sendlog.All {
			ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(counts[string(s)]), camp, string(s))
		}
		depth += counts[string(sendlog.Queued)] + counts[string(sendlog.Sending)]
		if n, err := c.st.SupporterCount(ctx, camp); err == nil {
			ch <- prometheus.MustNewConstMetric(supDesc, prometheus.GaugeValue, float64(n), camp)
		}
		// Counted in the database, so that every instance and a restart
		// agree; they only grow (an erased supporter's reply keeps its row).
		if kinds, answers, err := c.st.ReplyCounts(ctx, camp); err == nil {
			ch <- prometheus.MustNewConstMetric(repliesDesc, prometheus.CounterValue, float64(kinds["reply"]), camp)
			ch <- prometheus.MustNewConstMetric(acksDesc, prometheus.CounterValue, float64(kinds["acknowledgement"]), camp)
			for _, a := range []string{"yes", "acknowledgement", "no"} {
				ch <- prometheus.MustNewConstMetric(answersDesc, prometheus.CounterValue, float64(answers[a]), camp, a)
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(depth))
}

var (
	domainSentDesc = prometheus.NewDesc("outcry_domain_hourly_sent",
		"Emails sent in the past hour to all targets at one receiving domain (OUTCRY_DOMAIN_HOURLY_CAP counts these).", []string{"domain"}, nil)
	domainCapDesc = prometheus.NewDesc("outcry_domain_hourly_cap",
		"OUTCRY_DOMAIN_HOURLY_CAP: most emails an hour to one receiving domain (0: no cap).", nil, nil)
)

// WatchDomains adds each receiving domain's use of its hourly cap, read
// from uses at scrape time (the sender's windows), and the cap.
func (m *Metrics) WatchDomains(uses func() map[string]int, cap int) {
	m.reg.MustRegister(&domainCollector{uses: uses, cap: cap})
}

type domainCollector struct {
	uses func() map[string]int
	cap  int
}

func (c *domainCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- domainSentDesc
	ch <- domainCapDesc
}

func (c *domainCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(domainCapDesc, prometheus.GaugeValue, float64(c.cap))
	for d, n := range c.uses() {
		ch <- prometheus.MustNewConstMetric(domainSentDesc, prometheus.GaugeValue, float64(n), d)
	}
}

var (
	allowanceDesc = prometheus.NewDesc("outcry_target_hourly_allowance",
		"The hourly allowance of each target whose receiving server pushed back, as the back-off has reduced it (the cap halved per level, at least 1); targets at the full cap are not listed.", []string{"target"}, nil)
	pushbackStepsDesc = prometheus.NewDesc("outcry_pushback_steps_total",
		"Back-off steps taken for targets whose receiving servers pushed back, by step: down (allowance halved), up (climbed back), flag (a day at the floor: flagged).", []string{"step"}, nil)
)

// Pushback is what the back-off's metrics read from the database (issue
// 28 §4), so that every instance shows the same.
type Pushback interface {
	TargetPushbacks(ctx context.Context) (map[string]pushback.State, error)
	PushbackStepCounts(ctx context.Context) (map[string]int, error)
}

// WatchPushback adds each pushed-back target's allowance and the count of
// back-off steps by kind, read at scrape time, under the hourly cap.
func (m *Metrics) WatchPushback(st Pushback, cap int) {
	m.reg.MustRegister(&pushbackCollector{st: st, cap: cap})
}

type pushbackCollector struct {
	st  Pushback
	cap int
}

func (c *pushbackCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- allowanceDesc
	ch <- pushbackStepsDesc
}

func (c *pushbackCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.PushbackStepCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pushbackStepsDesc, err)
		return
	}
	for _, k := range []pushback.Kind{pushback.Down, pushback.Up, pushback.Flag} {
		ch <- prometheus.MustNewConstMetric(pushbackStepsDesc, prometheus.CounterValue, float64(counts[string(k)]), string(k))
	}
	states, err := c.st.TargetPushbacks(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(allowanceDesc, err)
		return
	}
	for id, s := range states {
		if s.Level > 0 && c.cap > 0 {
			ch <- prometheus.MustNewConstMetric(allowanceDesc, prometheus.GaugeValue, float64(pushback.Allowance(c.cap, s.Level)), id)
		}
	}
}
