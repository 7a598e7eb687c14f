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
//   - TRUNCATE also when the WAL passes walLimit (long readers kept the
//     automatic checkpoints from starting it over), after a PASSIVE
//     checkpoint has copied what it can (truncate, below): a TRUNCATE holds
//     new writers back while it runs, so it runs only with nothing left to
//     copy, waits at most 100 ms (its busy timeout) for readers, and when
//     readers outlast that is tried again only after forcedRetry.
const (
	checkpointEvery = 250 * time.Millisecond
	walLimit        = 64 << 20 // bytes of WAL before a TRUNCATE even under load
	checkpointIdle  = 5 * time.Second
	forcedRetry     = 10 * time.Second // after a TRUNCATE under load that readers kept from finishing
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
	// A short busy timeout: a TRUNCATE holds new writers back while it
	// waits for readers, and letters must not wait long for it (a reader
	// that outlasts it makes the checkpoint report busy, and it is tried
	// again later).
	db, err := sql.Open("sqlite", dsn(path, false, "busy_timeout(100)"))
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
	var forcedAgain time.Time // no TRUNCATE under load before then
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
		forced := !idle && size >= walLimit && now.After(forcedAgain)
		if !idle && !forced {
			continue
		}
		began := time.Now()
		cp.mu.Lock()
		busy, err := cp.truncate(ctx, forced)
		cp.mu.Unlock()
		if forced {
			// Letters may have waited for the truncation's last step:
			// say so, with how long it all took. When readers kept it from
			// finishing, the next try waits forcedRetry.
			slog.Warn("store: the WAL passed its limit under load; truncating it", "wal_bytes", size,
				"limit", walLimit, "took", time.Since(began).Round(time.Millisecond), "done", err == nil && !busy)
			if err != nil || busy {
				forcedAgain = now.Add(forcedRetry)
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("store: WAL checkpoint", "err", err)
			}
			continue
		}
		cp.runs.Add(1)
		if !busy {
			truncated = true
		}
	}
}

// truncate copies the WAL into the database file and truncates it; busy
// says readers kept it from finishing. Under load (forced) the copying is
// done first by a PASSIVE checkpoint, which never holds writers back, and
// the TRUNCATE, which does hold them back for as long as it runs, follows
// only when that copied everything: it then has nothing left to copy and
// holds letters back for at most its busy timeout. A TRUNCATE that copied
// 64 MiB itself stopped every letter for 4 to 8 s in the million-letter
// simulation.
func (cp *checkpointer) truncate(ctx context.Context, forced bool) (busy bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var b, logPages, done int
	if forced {
		if err := cp.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&b, &logPages, &done); err != nil {
			return false, err
		}
		if b != 0 || done < logPages {
			return true, nil
		}
	}
	if err := cp.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&b, &logPages, &done); err != nil {
		return false, err
	}
	return b != 0, nil
}

// WALBytes is the size of the SQLite WAL file at the checkpointer's last
// look (every quarter second); 0 on PostgreSQL.
func (s *Store) WALBytes() int64 {
	if s.cp == nil {
		return 0
	}
	return s.cp.size.Load()
}
