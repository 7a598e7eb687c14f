package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
)

// TestKillDashNineResumesWithinSeconds runs the real binary against a fake
// SendGrid, kills it with SIGKILL while it drains a queue at 100 messages a
// second (a batch claimed, sends in flight), starts it again on the same
// database, and times how long the rest takes. Before leases named their
// sender, the claimed messages waited for a 15-minute lease.
func TestKillDashNineResumesWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	fake := sgfake.New()
	defer fake.Close()
	fake.SetDefault(sgfake.Response{Hang: 50 * time.Millisecond}) // sends in flight at the kill
	db := filepath.Join(dir, "crash.db")
	start := func() (*exec.Cmd, string) {
		in := startInstance(t, bin, db, dir, "SENDGRID_API_KEY=SG.test", "OUTCRY_SENDGRID_URL="+fake.URL(), "OUTCRY_SANDBOX=on", "OUTCRY_READINESS=warn",
			"OUTCRY_FROM_EMAIL=letters@campaign.example", "OUTCRY_SEND_RATE=100", "OUTCRY_TARGET_HOURLY_CAP=0",
			"OUTCRY_DOMAIN_HOURLY_CAP=0")
		return in.cmd, in.base
	}
	cmd, base := start()
	const letters = 150 // 600 messages: six seconds at 100 a second
	for i := range letters {
		resp, err := http.Post(base+"/api/v1/campaigns/netflix-baby/letters", "application/json", strings.NewReader(fmt.Sprintf(
			`{"first_name":"Ann","last_name":"Lee","email":"crash%d@example.org","subject":"Stop","body":"Please stop.","accept_privacy":true}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("letter %d: %d", i, resp.StatusCode)
		}
	}
	for fake.Count() < 150 {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	ro, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	count := func(q string) int {
		var n int
		if err := ro.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	leased := count(`SELECT COUNT(*) FROM messages WHERE status = 'sending'`)
	atKill := fake.Count()
	if leased == 0 {
		t.Fatal("nothing was claimed at the kill: the test cannot show the recovery")
	}

	restarted := time.Now()
	cmd, _ = start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for count(`SELECT COUNT(*) FROM messages WHERE status = 'sent'`) < 4*letters {
		if time.Since(restarted) > 60*time.Second {
			t.Fatalf("60 s after the restart %d of %d messages were sent (%d were leased at the kill)",
				count(`SELECT COUNT(*) FROM messages WHERE status = 'sent'`), 4*letters, leased)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(restarted)
	// The remaining messages take (600 - sent before the kill) / 100 s at
	// the configured rate; anything beyond that plus the lease (10 s) is a
	// wait that should not be there.
	if rest := time.Duration(4*letters-atKill) * 10 * time.Millisecond; took > rest+20*time.Second {
		t.Fatalf("the rest took %v after the restart, want about %v of sending plus the 10 s lease", took, rest)
	}
	dup := fake.Count() - 4*letters
	t.Logf("%d leased at the kill; all %d sent %v after the restart; %d sent twice (in flight at the kill)", leased, 4*letters, took.Round(time.Millisecond), dup)
	if dup > 16 {
		t.Fatalf("%d messages were sent twice, more than were in flight", dup)
	}
}
