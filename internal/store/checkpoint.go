package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// WAL checkpoints (issue 29).
//
// The writer keeps SQLite's automatic checkpoint: inside the COMMIT that
// takes the WAL past 1,000 pages it copies the WAL into the database file,
// and the next write starts the WAL again from its beginning, so the WAL
// stays about 4 MiB under any load. Moving that work to a connection of
// its own was tried (PASSIVE every 250 ms): under continuous letters the
// checkpoint never caught up with the writer, so the WAL never restarted,
// grew to 256 MiB, and the viral minute's p99 went from 21 ms to 300 ms
// (docs/scaling.md). This loop only does what the writer cannot:
//
//   - TRUNCATE once letters have stopped arriving for checkpointIdle: the WAL
//     file goes back to zero bytes (it briefly waits for the writer, which
//     is idle then);
//   - TRUNCATE also when the WAL passes walLimit (a long reader kept the
//     automatic checkpoints from finishing): the file's size stays bounded
//     at the cost of one short wait of the writer.
const (
	checkpointEvery = 250 * time.Millisecond
	walLimit        = 64 << 20 // bytes of WAL before a TRUNCATE even under load
	checkpointIdle  = 5 * time.Second
)

// checkpointer runs the checkpoints of a SQLite store.
type checkpointer struct {
	wal  string // path of the -wal file
	db   *sql.DB
	stop context.CancelFunc
	done chan struct{}
	// mu is held during a checkpoint, so that the erasure's own TRUNCATE
	// (supporters.go) never meets this loop's and reads SQLite's "busy"
	// as readers in the way.
	mu     sync.Mutex
	groups atomic.Int64 // group commits made (letters.go); letters arriving
	size   atomic.Int64 // the WAL's size at the last look, bytes
	runs   atomic.Int64 // checkpoints made
}

func (s *Store) startCheckpoints(path string) error {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return fmt.Errorf("store: open %s for checkpoints: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	ctx, stop := context.WithCancel(context.Background())
	cp := &checkpointer{wal: path + "-wal", db: db, stop: stop, done: make(chan struct{})}
	s.cp = cp
	go cp.run(ctx)
	return nil
}

func (cp *checkpointer) close() {
	cp.stop()
	<-cp.done
	cp.db.Close()
}

func (cp *checkpointer) run(ctx context.Context) {
	defer close(cp.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	lastGroups, quietSince, truncated := int64(-1), time.Now(), true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(cp.wal)
		if err != nil {
			continue // no WAL yet
		}
		size := fi.Size()
		cp.size.Store(size)
		now := time.Now()
		if g := cp.groups.Load(); g != lastGroups {
			lastGroups, quietSince, truncated = g, now, false
		}
		idle := !truncated && now.Sub(quietSince) >= checkpointIdle && size > 0
		if size < walLimit && !idle {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var busy, logPages, done int
		began := time.Now()
		cp.mu.Lock()
		err = cp.db.QueryRowContext(cctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
		cp.mu.Unlock()
		cancel()
		if !idle {
			// Letters wait while this runs: say so, with how long.
			slog.Warn("store: the WAL passed its limit under load and was truncated", "wal_bytes", size,
				"limit", walLimit, "took", time.Since(began).Round(time.Millisecond), "busy", busy != 0)
		}
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("store: WAL checkpoint", "err", err)
			}
			continue
		}
		cp.runs.Add(1)
		if busy == 0 {
			truncated = true
		}
	}
}

// WALBytes is the size of the SQLite WAL file at the checkpointer's last
// look (every quarter second); 0 on PostgreSQL.
func (s *Store) WALBytes() int64 {
	if s.cp == nil {
		return 0
	}
	return s.cp.size.Load()
}
