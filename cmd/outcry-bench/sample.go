package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
)

// sample is the server's state at one moment of a long run (issue 29): its
// memory, the database's and the WAL's size, and the messages waiting.
type sample struct {
	AtS       float64 `json:"at_s"`
	RSSMiB    float64 `json:"rss_mib"`
	DBMiB     float64 `json:"db_mib"`
	WALMiB    float64 `json:"wal_mib"`
	Queued    int     `json:"queued"`
	LoadAvg1m float64 `json:"load_average_1m"`
}

// sampleEvery samples the child and its database db every period until ctx
// ends, and returns the samples (the last one taken as ctx ends).
func sampleEvery(ctx context.Context, c *child, db string, period time.Duration) <-chan []sample {
	out := make(chan []sample, 1)
	go func() {
		var got []sample
		start := time.Now()
		t := time.NewTicker(period)
		defer t.Stop()
		take := func() { got = append(got, takeSample(c, db, time.Since(start))) }
		for {
			select {
			case <-ctx.Done():
				take()
				out <- got
				return
			case <-t.C:
				take()
			}
		}
	}()
	return out
}

func takeSample(c *child, db string, at time.Duration) sample {
	s := sample{AtS: at.Seconds(), LoadAvg1m: loadAvg()}
	s.RSSMiB, _ = procStatusMiB(c.cmd.Process.Pid, "VmRSS:")
	if fi, err := os.Stat(db); err == nil {
		s.DBMiB = float64(fi.Size()) / (1 << 20)
	}
	if fi, err := os.Stat(db + "-wal"); err == nil {
		s.WALMiB = float64(fi.Size()) / (1 << 20)
	}
	s.Queued, _ = queuedNow(db)
	return s
}

// queuedNow reads the messages waiting from the counts the sign path keeps
// (message_counts), which costs nothing however long the table.
func queuedNow(db string) (int, error) {
	conn, err := sql.Open("sqlite", store.DSN(db)+"&_pragma=query_only(1)")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n sql.NullInt64
	err = conn.QueryRowContext(ctx, `SELECT SUM(n) FROM message_counts WHERE status IN (?, ?)`,
		string(sendlog.Queued), string(sendlog.Sending)).Scan(&n)
	return int(n.Int64), err
}

// procStatusMiB reads a kB field of /proc/<pid>/status in MiB.
func procStatusMiB(pid int, field string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
