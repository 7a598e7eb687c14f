package web

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/pgtest"
)

// Issue 16, item 8: /healthz answers 503 while another process holds the
// database's write lock (reads still work), and 200 again once it is gone.
func TestHealthzReflectsWrites(t *testing.T) {
	pgtest.SQLiteOnly(t) // a lock on the SQLite file
	var nowSec atomic.Int64
	nowSec.Store(1_700_000_000)
	clock := func() time.Time { return time.Unix(nowSec.Load(), 0) }
	a := newTestApp(t, func(d *Deps) { d.Security.Now = clock })
	a.store.SetClock(clock)
	if status, _, body := a.do(t, "GET", "/healthz", "", ""); status != http.StatusOK {
		t.Fatalf("healthy: %d %s", status, body)
	}
	release := a.holdWriteLock(t)
	nowSec.Add(int64(healthProbeEvery.Seconds())) // the cached answer is due for a new probe
	status, _, body := a.do(t, "GET", "/healthz", "", "")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "does not accept writes") {
		t.Fatalf("locked database: %d %s", status, body)
	}
	release()
	nowSec.Add(int64((healthProbeEvery + healthFailureHold).Seconds()))
	if status, _, body := a.do(t, "GET", "/healthz", "", ""); status != http.StatusOK {
		t.Fatalf("after the lock: %d %s", status, body)
	}
}

// holdWriteLock takes the database's write lock from another connection,
// as another process would, until release (or the test's end).
func (a *testApp) holdWriteLock(t *testing.T) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO settings (key, value, updated_at) VALUES ('lock', '', 0)`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), `ROLLBACK`)
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}
