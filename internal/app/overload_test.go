package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/pgtest"
)

// Letters past OUTCRY_MAX_PENDING, against the whole service on loopback
// (issue 29). The database's write lock is held from outside, so that the
// letters admitted wait for their group commit and fill the sign path; then
// every further letter is refused at once, 503 with Retry-After: the API
// with a JSON error, the form shown again with everything typed and the
// message. Once the lock is let go, the admitted letters are answered 202,
// and the database holds exactly the letters that got a 202.
func TestLettersPastMaxPending(t *testing.T) {
	pgtest.SQLiteOnly(t) // the write lock held from outside is SQLite's
	const maxPending = 4
	db := filepath.Join(t.TempDir(), "outcry.db")
	a, base := start(t, map[string]string{"OUTCRY_DB": db, "OUTCRY_MAX_PENDING": fmt.Sprint(maxPending)})
	slug := a.Campaigns.Listed()[0].Slug
	api := base + "/api/v1/campaigns/" + slug + "/letters"

	release := holdWriteLock(t, db)
	type result struct {
		email  string
		status int
	}
	results := make(chan result, 100)
	var wg sync.WaitGroup
	post := func(email string) {
		defer wg.Done()
		r := call(t, http.MethodPost, api, "application/json", letterJSON(email), false)
		results <- result{email, r.status}
	}
	for i := range maxPending {
		wg.Add(1)
		go post(fmt.Sprintf("waiting%d@example.org", i))
	}
	for deadline := time.Now().Add(20 * time.Second); a.Letters.Gate.Pending() < maxPending; {
		if time.Now().After(deadline) {
			t.Fatalf("%d letters in the sign path, want %d", a.Letters.Gate.Pending(), maxPending)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The API: 503, Retry-After, a JSON error.
	resp, err := http.Post(api, "application/json", strings.NewReader(letterJSON("shed-api@example.org")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("API past the bound: %d, Retry-After %q, %s %s; want 503 with Retry-After and a JSON error",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
	}

	// The form: 503, Retry-After, the letter as typed and the message.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := browser.Get(base + "/c/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := formCSRF.FindStringSubmatch(string(pb))
	if m == nil {
		t.Fatal("no CSRF token on the campaign page")
	}
	form := url.Values{"csrf": {m[1]}, "first_name": {"Rosa"}, "last_name": {"Parks"}, "email": {"shed-form@example.org"},
		"postcode": {"SW1A 1AA"}, "subject": {"Please listen"}, "body": {"My own words, typed with care."}, "accept_privacy": {"on"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/c/"+slug, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	shown := string(fb)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("form past the bound: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, want := range []string{
		"Too many letters are arriving at once: nothing was sent yet, please press Send again in a few seconds",
		">My own words, typed with care.</textarea>", `value="Rosa"`, `value="Parks"`, `value="shed-form@example.org"`, `value="Please listen"`,
	} {
		if !strings.Contains(shown, want) {
			t.Fatalf("the form shown again lacks %q:\n%s", want, shown)
		}
	}
	if got := a.Letters.Gate.Shed(); got != 2 {
		t.Fatalf("shed letters counted: %d, want 2", got)
	}
	metrics := call(t, http.MethodGet, base+"/metrics", "", "", true)
	if !strings.Contains(metrics.body, "outcry_letters_shed_total 2") {
		t.Fatalf("/metrics does not count the 2 shed letters:\n%s", metrics.body)
	}
	stats := call(t, http.MethodGet, base+"/admin/api/stats", "", "", true)
	if !strings.Contains(stats.body, `"letters_shed":2`) || !strings.Contains(stats.body, fmt.Sprintf(`"max_pending":%d`, maxPending)) {
		t.Fatalf("the console's figures lack the shed letters: %s", stats.body)
	}

	release()
	wg.Wait()
	close(results)
	accepted := map[string]bool{}
	for r := range results {
		if r.status != http.StatusAccepted {
			t.Fatalf("%s waited in the sign path and got %d, want 202 once the lock was let go", r.email, r.status)
		}
		accepted[r.email] = true
	}
	stored := storedEmails(t, db)
	for e := range accepted {
		if !stored[e] {
			t.Errorf("%s got 202 and is not in the database", e)
		}
	}
	for _, e := range []string{"shed-api@example.org", "shed-form@example.org"} {
		if stored[e] {
			t.Errorf("%s was refused with 503 and is in the database", e)
		}
	}
}

// A crowd against a small bound: every answer is 202, or 503 with
// Retry-After, and every 202 is in the database.
func TestCrowdPastMaxPendingLosesNoAcceptedLetter(t *testing.T) {
	pgtest.SQLiteOnly(t) // reads the SQLite file afterwards
	db := filepath.Join(t.TempDir(), "outcry.db")
	a, base := start(t, map[string]string{"OUTCRY_DB": db, "OUTCRY_MAX_PENDING": "3"})
	api := base + "/api/v1/campaigns/" + a.Campaigns.Listed()[0].Slug + "/letters"
	const n = 200
	status := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(api, "application/json", strings.NewReader(letterJSON(fmt.Sprintf("crowd%d@example.org", i))))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status[i] = resp.StatusCode
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Errorf("letter %d: 503 without Retry-After", i)
			}
		}()
	}
	wg.Wait()
	stored := storedEmails(t, db)
	shed := 0
	for i, s := range status {
		e := fmt.Sprintf("crowd%d@example.org", i)
		switch s {
		case http.StatusAccepted:
			if !stored[e] {
				t.Errorf("%s got 202 and is not in the database", e)
			}
		case http.StatusServiceUnavailable:
			shed++
			if stored[e] {
				t.Errorf("%s got 503 and is in the database", e)
			}
		default:
			t.Errorf("%s: %d, want 202 or 503", e, s)
		}
	}
	if got := a.Letters.Gate.Shed(); got != int64(shed) {
		t.Errorf("shed counted %d, answered 503 %d", got, shed)
	}
	t.Logf("%d of %d letters shed with a bound of 3", shed, n)
}

// The default of OUTCRY_MAX_PENDING is the sign path's (config cannot
// import letter).
func TestMaxPendingDefault(t *testing.T) {
	a, _ := start(t, nil)
	if a.Config.MaxPending != letter.DefaultMaxPending || a.Letters.Gate.Max() != letter.DefaultMaxPending {
		t.Fatalf("OUTCRY_MAX_PENDING default %d, gate %d; want %d", a.Config.MaxPending, a.Letters.Gate.Max(), letter.DefaultMaxPending)
	}
}

var formCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// holdWriteLock takes SQLite's write lock from another connection until
// release (or the test's end).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
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

// storedEmails are the supporters' addresses in the SQLite file.
func storedEmails(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT email FROM supporters`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		out[e] = true
	}
	return out
}
