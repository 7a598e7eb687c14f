package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test reads the shared database

	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/sgfake"
)

// instance is one outcry process of several sharing a database.
type instance struct {
	cmd  *exec.Cmd
	base string
}

// startInstance runs the binary on db with its own folder (its own
// targets.yaml, as on its own machine) and waits until it serves.
func startInstance(t *testing.T, bin, db, dir string, env ...string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{"OUTCRY_ADDR=" + addr, "OUTCRY_DB=" + db,
		"OUTCRY_TARGETS=" + filepath.Join(dir, "targets.yaml"), "OUTCRY_CAMPAIGN=" + filepath.Join(dir, "campaign.yaml"),
		"OUTCRY_SUBMIT_RATE=0", "OUTCRY_LOG_LEVEL=error", "OUTCRY_BASE_URL=http://" + addr}, env...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, base: "http://" + addr}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(in.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("outcry did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "outcry")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// fakeSendGrid is the environment that points an instance at fake, in
// sandbox mode, with no per-target cap, and more.
func fakeSendGrid(fake *sgfake.Server, more ...string) []string {
	return append([]string{"SENDGRID_API_KEY=SG.test", "OUTCRY_SENDGRID_URL=" + fake.URL(), "OUTCRY_SANDBOX=on", "OUTCRY_READINESS=warn",
		"OUTCRY_FROM_EMAIL=letters@campaign.example", "OUTCRY_TARGET_HOURLY_CAP=0", "OUTCRY_DOMAIN_HOURLY_CAP=0"}, more...)
}

func postLetter(t *testing.T, base, email string) int {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/campaigns/netflix-baby/letters", "application/json", strings.NewReader(fmt.Sprintf(
		`{"first_name":"Ann","last_name":"Lee","email":%q,"subject":"Stop","body":"Please stop.","accept_privacy":true}`, email)))
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTwoInstancesOnPostgres runs two outcry processes on one PostgreSQL
// database against one fake SendGrid, as two machines behind a proxy would:
// the same address written to both at once makes one supporter; letters
// posted to both are sent at the configured rate across the two together;
// the sending instance killed with SIGKILL mid-drain is taken over by the
// other, which sends the rest (duplicates only from the sends in flight);
// and a campaign closed on one is closed on the other within 5 s.
func TestTwoInstancesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	db := pgtest.URL(t)
	bin := buildBinary(t)
	fake := sgfake.New()
	defer fake.Close()
	fake.SetDefault(sgfake.Response{Hang: 30 * time.Millisecond}) // sends in flight at the kill
	const rate = 40
	env := fakeSendGrid(fake, fmt.Sprintf("OUTCRY_SEND_RATE=%d", rate),
		"OUTCRY_ADMIN_PASSWORD=correct horse battery", "OUTCRY_ADMIN_TOKEN=instances-test-token-0123456789")
	dir := t.TempDir()
	// a starts first and so leads: the test kills the sender it knows.
	// Each is named as a machine of its own (OUTCRY_INSTANCE): b cannot
	// see that a's process is gone and takes over when a's lease runs out,
	// as on two machines.
	a := startInstance(t, bin, db, filepath.Join(dir, "a"), append(env, "OUTCRY_INSTANCE=machine-a")...)
	b := startInstance(t, bin, db, filepath.Join(dir, "b"), append(env, "OUTCRY_INSTANCE=machine-b")...)

	ro, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := ro.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// One address written to both instances at the same moment.
	var wg sync.WaitGroup
	const same = 20
	for i := range same {
		for _, in := range []*instance{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := postLetter(t, in.base, fmt.Sprintf("both%d@example.org", i)); code != 202 {
					t.Errorf("letter to %s: %d", in.base, code)
				}
			}()
		}
	}
	wg.Wait()
	if n := count(`SELECT COUNT(*) FROM supporters WHERE email LIKE 'both%'`); n != same {
		t.Fatalf("%d addresses written to both instances at once made %d supporters", same, n)
	}

	// Letters posted to both, alternately.
	const letters = 100
	for i := range letters {
		in := a
		if i%2 == 1 {
			in = b
		}
		if code := postLetter(t, in.base, fmt.Sprintf("drain%d@example.org", i)); code != 202 {
			t.Fatalf("letter %d: %d", i, code)
		}
	}
	total := 4 * (same + letters)
	for fake.Count() < total/4 {
		time.Sleep(5 * time.Millisecond)
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	killed := time.Now()
	atKill := fake.Count()
	leased := count(`SELECT COUNT(*) FROM messages WHERE status = 'sending'`)
	if leased == 0 {
		t.Fatal("nothing was claimed at the kill: the test cannot show the takeover")
	}
	for count(`SELECT COUNT(*) FROM messages WHERE status = 'sent'`) < total {
		if time.Since(killed) > 90*time.Second {
			t.Fatalf("90 s after the kill %d of %d messages were sent (%d leased at the kill)",
				count(`SELECT COUNT(*) FROM messages WHERE status = 'sent'`), total, leased)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(killed)
	// The rest takes (total - sent at the kill) / rate; anything beyond
	// that and the takeover (a 10 s lease, renewed every 2 s) is a wait
	// that should not be there; the issue allows 30 s.
	if rest := time.Duration(total-atKill) * time.Second / rate; took > rest+30*time.Second {
		t.Fatalf("the rest took %v after the kill, want about %v of sending plus the takeover", took, rest)
	}
	dup := fake.Count() - total
	t.Logf("%d leased at the kill; all %d sent %v after it; %d sent twice (in flight at the kill)", leased, total, took.Round(time.Millisecond), dup)
	if dup > 16 {
		t.Fatalf("%d messages were sent twice, more than were in flight", dup)
	}

	// The rate held across both instances and the takeover: never more
	// than rate (plus the burst of one) started in any second. The fake
	// sees arrivals, which the machine's scheduling moves by a few
	// milliseconds either way, so the sliding window it counts in is 0.9 s:
	// requests started within one second arrive within it unless one is
	// delayed by more than 50 ms. Two instances sending would be 2×rate.
	var at []time.Time
	for _, r := range fake.Requests() {
		at = append(at, r.At)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	most := 0
	for i, j := 0, 0; i < len(at); i++ {
		for at[i].Sub(at[j]) >= 900*time.Millisecond {
			j++
		}
		most = max(most, i-j+1)
	}
	t.Logf("at most %d sends in any 0.9 s at a rate of %d a second", most, rate)
	if most > rate+1 {
		t.Fatalf("%d sends in 0.9 s across the instances, over the rate of %d a second plus its burst", most, rate)
	}

	// A campaign closed through b's console API is closed on a new
	// instance c within 5 s (a is dead; c follows the database like it).
	c := startInstance(t, bin, db, filepath.Join(dir, "c"), append(env, "OUTCRY_INSTANCE=machine-c")...)
	req, _ := http.NewRequest(http.MethodPatch, b.base+"/admin/api/campaigns/netflix-baby", strings.NewReader(`{"status":"closed"}`))
	req.Header.Set("Authorization", "Bearer instances-test-token-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("close the campaign on b: %d", resp.StatusCode)
	}
	closed := time.Now()
	for {
		resp, err := http.Get(c.base + "/api/v1/campaigns/netflix-baby")
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Status == "closed" {
			break
		}
		if time.Since(closed) > 5*time.Second {
			t.Fatalf("5 s after b closed the campaign, c still says %q", got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := postLetter(t, c.base, "late@example.org"); code != http.StatusGone {
		t.Fatalf("a letter to the closed campaign on c: %d, want 410", code)
	}
}

// TestMoveFromSQLiteToPostgres moves a running campaign as docs/instances.md tells an
// operator to: letters taken and partly sent on SQLite; `outcry db copy`
// refused while outcry runs on the file; outcry stopped; the copy; outcry
// started on PostgreSQL, which sends the rest, each letter once, and knows
// every supporter the file held.
func TestMoveFromSQLiteToPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	db := pgtest.URL(t)
	bin := buildBinary(t)
	fake := sgfake.New()
	defer fake.Close()
	env := fakeSendGrid(fake)
	dir := t.TempDir()
	file := filepath.Join(dir, "outcry.db")
	a := startInstance(t, bin, file, filepath.Join(dir, "a"), append(env, "OUTCRY_SEND_RATE=2")...)
	const letters = 10
	for i := range letters {
		if code := postLetter(t, a.base, fmt.Sprintf("move%d@example.org", i)); code != 202 {
			t.Fatalf("letter %d: %d", i, code)
		}
	}
	for fake.Count() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	copyCmd := func() (string, error) {
		out, err := exec.Command(bin, "db", "copy", file, db).CombinedOutput()
		return string(out), err
	}
	if out, err := copyCmd(); err == nil || !strings.Contains(out, "still runs on this file") {
		t.Fatalf("copy while outcry runs on the file: %v\n%s", err, out)
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	a.cmd.Wait()
	sentOnSQLite := fake.Count()
	out, err := copyCmd()
	if err != nil || !strings.Contains(out, fmt.Sprintf("supporters       %d rows", letters)) {
		t.Fatalf("copy: %v\n%s", err, out)
	}

	b := startInstance(t, bin, db, filepath.Join(dir, "b"), append(env, "OUTCRY_SEND_RATE=50")...)
	total := 4 * letters
	for deadline := time.Now().Add(60 * time.Second); fake.Count() < total; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("60 s after the move %d of %d messages were sent", fake.Count(), total)
		}
	}
	time.Sleep(time.Second) // a message sent twice would arrive now
	seen := map[string]int{}
	for _, r := range fake.Requests() {
		seen[r.Mail.ReplyTo.Email+" to "+r.Mail.Personalizations[0].To[0].Email]++
	}
	for pair, n := range seen {
		if n != 1 {
			t.Errorf("%s was sent %d times", pair, n)
		}
	}
	if len(seen) != total || fake.Count() != total {
		t.Errorf("%d letters to %d people made %d messages (%d sent), want %d once each", letters, total/letters, len(seen), fake.Count(), total)
	}
	t.Logf("%d messages sent from SQLite before the move, the other %d from PostgreSQL", sentOnSQLite, total-sentOnSQLite)

	// Every supporter came along: the count, and an address that signed
	// on SQLite is known on PostgreSQL.
	if code := postLetter(t, b.base, "move3@example.org"); code != 202 {
		t.Fatalf("a supporter signing again: %d", code)
	}
	resp, err := http.Get(b.base + "/api/v1/campaigns/netflix-baby")
	if err != nil {
		t.Fatal(err)
	}
	var camp struct{ Count int }
	json.NewDecoder(resp.Body).Decode(&camp)
	resp.Body.Close()
	if camp.Count != letters {
		t.Errorf("the campaign counts %d supporters on PostgreSQL, want %d", camp.Count, letters)
	}
	if out, err := copyCmd(); err == nil || !strings.Contains(out, "already holds outcry data") {
		t.Fatalf("a second copy into the same database: %v\n%s", err, out)
	}
}
