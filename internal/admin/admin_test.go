package admin

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/outcry/outcry/internal/testkit"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/metrics"
	"github.com/outcry/outcry/internal/openapi/oatest"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
	"github.com/outcry/outcry/internal/web"
)

const (
	testPassword = "correct horse battery staple"
	testToken    = "token-0123456789abcdef"
)

type env struct {
	t       *testing.T
	http    *httptest.Server
	store   *store.Store
	dbPath  string
	targets *target.Registry
	tfile   string
	sender  *delivery.Sender
	mailer  *testkit.Mailbox
	letters *letter.Service
	camp    *campaign.Campaign
	camps   *campaign.Service
	metrics *metrics.Metrics
	client  *http.Client
	csrf    string
}

type opts func(*Deps)

func newEnv(t *testing.T, o ...opts) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := pgtest.DB(t, filepath.Join(dir, "admin.db"))
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	camp, err := campaign.Load("../../campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tfile := filepath.Join(dir, "targets.yaml")
	if err := os.WriteFile(tfile, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := target.NewShared(ctx, tfile, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := os.DirFS("../../templates")
	r, err := letter.NewRenderer(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	meter := metrics.New(st, func() []string { return []string{camp.Slug} })
	mailer := &testkit.Mailbox{}
	sender := delivery.NewSender(outbox.NewOutbox(st, reg, r), mailer, delivery.Options{PollInterval: 5 * time.Millisecond, Logger: quiet,
		Observer: meter.ObserveSend})
	letters := &letter.Service{Store: st, Targets: reg, Renderer: r, Queued: sender.Notify, Observe: meter.ObserveLetter}
	campaigns, err := campaign.NewService(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := campaigns.Seed(ctx, camp); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Campaigns: campaigns, Organizer: camp.Organizer, Store: st, Targets: reg, Templates: tmpl, Static: os.DirFS("../../static"),
		Letters: letters, BaseURL: "http://outcry.test", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Campaigns: campaigns, CampaignFile: camp, BaseURL: "http://outcry.test", Store: st, Targets: reg, Renderer: r, Sender: sender, Metrics: meter, Templates: tmpl,
		Password: testPassword, Token: testToken, SendRate: 5, HourlyCap: 30, Logger: quiet}
	for _, f := range o {
		f(&d)
	}
	if _, err := Register(srv.Echo, d); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Echo)
	t.Cleanup(hs.Close)
	jar, _ := cookiejar.New(nil)
	// Answers of /admin/api are checked against the OpenAPI document.
	client := &http.Client{Jar: jar, Transport: oatest.Transport(t, nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &env{t: t, http: hs, store: st, dbPath: dbPath, targets: reg, tfile: tfile, sender: sender, mailer: mailer,
		letters: letters, camp: camp, camps: campaigns, metrics: meter, client: client}
}

// run starts the sender until the test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.sender.Run(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *env) sign(email string) {
	e.t.Helper()
	sub := &letter.Submission{FirstName: "Ann", LastName: "Lee", Email: email, Subject: "Stop it", Body: "Please stop.", AcceptPrivacy: true}
	if _, err := e.letters.Sign(context.Background(), e.camp, sub); err != nil {
		e.t.Fatal(err)
	}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path string, form url.Values, header ...string) resp {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

func (e *env) get(path string) resp { return e.do("GET", path, nil) }

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfIn(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in page:\n%s", body)
	}
	return m[1]
}

func (e *env) tryLogin(password string) resp {
	e.t.Helper()
	page := e.get("/admin/login")
	return e.do("POST", "/admin/login", url.Values{"csrf": {csrfIn(e.t, page.body)}, "password": {password}})
}

// login logs in and remembers the session's CSRF token.
func (e *env) login() {
	e.t.Helper()
	if r := e.tryLogin(testPassword); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin" {
		e.t.Fatalf("login: %d %s", r.status, r.body)
	}
	page := e.get("/admin")
	if page.status != http.StatusOK {
		e.t.Fatalf("dashboard after login: %d", page.status)
	}
	e.csrf = csrfIn(e.t, page.body)
}

// post sends a console form with the session's CSRF token.
func (e *env) post(path string, form url.Values) resp {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", e.csrf)
	return e.do("POST", path, form)
}

func TestConsoleDisabledWithoutPassword(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.Password, d.Token = "", "" })
	for _, r := range []resp{e.get("/admin"), e.get("/admin/login"), e.get("/admin/targets"),
		e.do("POST", "/admin/login", url.Values{"password": {""}})} {
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "OUTCRY_ADMIN_PASSWORD") {
			t.Fatalf("disabled console answered %d:\n%s", r.status, r.body)
		}
	}
	r := e.get("/admin/api/stats")
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "OUTCRY_ADMIN_TOKEN") {
		t.Fatalf("API without a token: %d %s", r.status, r.body)
	}
}

func TestLogin(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	for name, o := range map[string]opts{
		"password": func(d *Deps) {},
		"bcrypt":   func(d *Deps) { d.Password, d.PasswordHash = "", string(hash) },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, o)
			if r := e.get("/admin"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
				t.Fatalf("no session: %d %s", r.status, r.header.Get("Location"))
			}
			if r := e.tryLogin("wrong"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "not right") {
				t.Fatalf("wrong password: %d", r.status)
			}
			if r := e.get("/admin"); r.status != http.StatusSeeOther {
				t.Fatalf("wrong password gave a session: %d", r.status)
			}
			r := e.tryLogin(testPassword)
			if r.status != http.StatusSeeOther {
				t.Fatalf("login: %d", r.status)
			}
			ck := r.header.Get("Set-Cookie")
			for _, want := range []string{sessionCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/admin"} {
				if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), want) {
					t.Fatalf("session cookie %q lacks %s", ck, want)
				}
			}
			if strings.Contains(ck, "Secure") {
				t.Fatal("Secure cookie on plain http base URL")
			}
			e.csrf = csrfIn(t, e.get("/admin").body)
			if r := e.post("/admin/logout", nil); r.status != http.StatusSeeOther {
				t.Fatalf("logout: %d", r.status)
			}
			if r := e.get("/admin"); r.status != http.StatusSeeOther {
				t.Fatalf("still logged in after logout: %d", r.status)
			}
		})
	}
}

func TestSecureCookieWhenHTTPS(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.SecureCookies = true })
	page := e.get("/admin/login")
	if !strings.Contains(page.header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("cookie not Secure: %s", page.header.Get("Set-Cookie"))
	}
}

func TestTamperedSessionRefused(t *testing.T) {
	e := newEnv(t)
	e.login()
	u, _ := url.Parse(e.http.URL + "/admin")
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			c.Value = "x" + c.Value[1:]
			e.client.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/admin"}})
		}
	}
	if r := e.get("/admin"); r.status != http.StatusSeeOther {
		t.Fatalf("tampered session accepted: %d", r.status)
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.LoginBurst, d.LoginEvery = 3, time.Hour })
	for i := range 3 {
		if r := e.tryLogin("wrong"); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	// A forged X-Forwarded-For does not buy another attempt.
	page := e.get("/admin/login")
	r := e.do("POST", "/admin/login", url.Values{"csrf": {csrfIn(t, page.body)}, "password": {"wrong"}}, "X-Forwarded-For", "203.0.113.9")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("X-Forwarded-For bypassed the limit: %d", r.status)
	}
	r = e.tryLogin(testPassword) // even the right password waits
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt: %d", r.status)
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	// Login without the login cookie's token.
	if r := e.do("POST", "/admin/login", url.Values{"password": {testPassword}}); r.status != http.StatusForbidden {
		t.Fatalf("login without token: %d", r.status)
	}
	e.login()
	for name, form := range map[string]url.Values{
		"missing": {},
		"forged":  {"csrf": {strings.Repeat("ab", 32)}},
		"other":   {"csrf": {(&auth{secret: []byte("another secret")}).csrf("some-session")}},
	} {
		paths := []string{"/admin/pause", "/admin/resume", "/admin/targets", "/admin/targets/ted-sarandos/remove",
			"/admin/letter", "/admin/messages/1/retry", "/admin/logout"}
		for _, p := range paths {
			if r := e.do("POST", p, form); r.status != http.StatusForbidden || !strings.Contains(r.body, "Nothing was changed") {
				t.Fatalf("%s token on %s: %d", name, p, r.status)
			}
		}
	}
	if p, _ := e.sender.Paused(); p {
		t.Fatal("a forged form paused sending")
	}
	if _, ok := e.targets.Current().ByID("ted-sarandos"); !ok {
		t.Fatal("a forged form removed a target")
	}
	if r := e.post("/admin/pause", nil); r.status != http.StatusSeeOther {
		t.Fatalf("pause with token: %d", r.status)
	}
}

func TestAPIToken(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/admin/api/messages", "/admin/api/stats", "/metrics"} {
		for name, h := range map[string][]string{
			"missing": nil,
			"wrong":   {"Authorization", "Bearer " + testToken + "x"},
			"basic":   {"Authorization", "Basic " + testToken},
		} {
			r := e.do("GET", path, nil, h...)
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("%s %s: %d", name, path, r.status)
			}
		}
		if r := e.do("GET", path, nil, "Authorization", "Bearer "+testToken); r.status != http.StatusOK {
			t.Fatalf("%s with token: %d %s", path, r.status, r.body)
		}
	}
	// A browser session is not enough for the API.
	e.login()
	if r := e.get("/admin/api/stats"); r.status != http.StatusUnauthorized {
		t.Fatalf("session on API: %d", r.status)
	}
}

func (e *env) api(path string, into any) {
	e.t.Helper()
	r := e.do("GET", path, nil, "Authorization", "Bearer "+testToken)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), into); err != nil {
		e.t.Fatal(err)
	}
}

func TestAPIMessagesPagesStayStableAsRowsArrive(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.sign(fmt.Sprintf("s%d@example.org", i)) // 4 active targets: 12 messages
	}
	var seen []float64
	after := ""
	for page := 0; page < 20; page++ {
		var out struct {
			Messages []map[string]any `json:"messages"`
			Next     *int64           `json:"next"`
		}
		e.api("/admin/api/messages?limit=5"+after, &out)
		for _, m := range out.Messages {
			for _, f := range []string{"id", "target_id", "target_email", "supporter_email", "status", "attempts",
				"last_error", "provider_message_id", "queued_at", "sent_at", "updated_at"} {
				if _, ok := m[f]; !ok {
					t.Fatalf("message lacks %s: %v", f, m)
				}
			}
			if _, err := time.Parse(time.RFC3339, m["queued_at"].(string)); err != nil {
				t.Fatalf("queued_at not RFC 3339: %v", m["queued_at"])
			}
			seen = append(seen, m["id"].(float64))
		}
		e.sign(fmt.Sprintf("new%d@example.org", page)) // arrives between pages
		if out.Next == nil {
			break
		}
		after = fmt.Sprintf("&after=%d", *out.Next)
	}
	if len(seen) != 12 {
		t.Fatalf("saw %d messages, want the 12 there at the start: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("order broken or repeated: %v", seen)
		}
	}
	var filtered struct {
		Messages []map[string]any `json:"messages"`
	}
	e.api("/admin/api/messages?target=ted-sarandos&status=queued", &filtered)
	if len(filtered.Messages) == 0 {
		t.Fatal("no messages for the target filter")
	}
	for _, m := range filtered.Messages {
		if m["target_id"] != "ted-sarandos" || m["status"] != "queued" {
			t.Fatalf("filter leaked %v", m)
		}
	}
	if r := e.do("GET", "/admin/api/messages?after=abc", nil, "Authorization", "Bearer "+testToken); r.status != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", r.status)
	}
	var stats Stats
	e.api("/admin/api/stats", &stats)
	if stats.Supporters < 3 || stats.Totals["queued"] == 0 || stats.QueueDepth == 0 || len(stats.Targets) == 0 {
		t.Fatalf("stats = %+v", stats)
	}
}

var rowRe = regexp.MustCompile(`<a href="/admin/messages/(\d+)">`)

func TestSendLogFilters(t *testing.T) {
	e := newEnv(t)
	e.sign("Ann@Example.org")
	e.sign("bob@example.org")
	e.login()
	st, _ := e.store.StatusCounts(context.Background(), e.camp.Slug)
	total := st["queued"]
	if total != 8 {
		t.Fatalf("queued = %d", total)
	}
	// Fail one message.
	first, _ := e.store.Messages(context.Background(), store.MessageFilter{Limit: 1})
	setStatus(t, e, first[0].ID, "failed")
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
	cases := []struct {
		query string
		want  int
	}{
		{"", 8},
		{"status=failed", 1},
		{"status=queued", 7},
		{"target=ted-sarandos", 2},
		{"target=ted-sarandos&status=queued", 2},
		{"email=%20ANN@example.org%20", 4},
		{"email=nobody@example.org", 0},
		{"from=" + today + "&to=" + today, 8},
		{"from=" + tomorrow, 0},
	}
	for _, c := range cases {
		r := e.get("/admin/messages?" + c.query)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", c.query, r.status)
		}
		if got := len(rowRe.FindAllString(r.body, -1)); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.query, got, c.want)
		}
	}
	if r := e.get("/admin/messages?status=bogus"); r.status != http.StatusBadRequest {
		t.Fatalf("bad status filter: %d", r.status)
	}
	if r := e.get("/admin/messages?from=yesterday"); r.status != http.StatusBadRequest {
		t.Fatalf("bad date filter: %d", r.status)
	}
}

func TestSendLogPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 15 { // 60 messages: two pages of 50
		e.sign(fmt.Sprintf("p%d@example.org", i))
	}
	e.login()
	r := e.get("/admin/messages")
	ids := rowRe.FindAllStringSubmatch(r.body, -1)
	if len(ids) != pageSize {
		t.Fatalf("first page: %d rows", len(ids))
	}
	next := regexp.MustCompile(`href="/admin/messages\?before=(\d+)"`).FindStringSubmatch(r.body)
	if next == nil || next[1] != ids[len(ids)-1][1] {
		t.Fatalf("next link = %v, last id %s", next, ids[len(ids)-1][1])
	}
	e.sign("late@example.org") // arrives before the second page
	r = e.get("/admin/messages?before=" + next[1])
	if got := len(rowRe.FindAllString(r.body, -1)); got != 10 {
		t.Fatalf("second page: %d rows, want 10", got)
	}
}

func setStatus(t *testing.T, e *env, id int64, status string) {
	t.Helper()
	e.exec(`UPDATE messages SET status = ?, last_error = 'permanent (HTTP 400): bad' WHERE id = ?`, status, id)
}

// exec changes the database behind the console's back (as the sender or
// the webhook would).
func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if _, err := e.rawDB().Exec(query, args...); err != nil {
		e.t.Fatal(err)
	}
}

// rawDB is the database behind the console, opened apart from the store:
// the SQLite file, or the PostgreSQL database in the OUTCRY_TEST_STORE run,
// with the ? placeholders of the queries the tests write turned into $n.
func (e *env) rawDB() *sqlDB {
	e.t.Helper()
	driver, dsn := "sqlite", "file:"+e.dbPath+"?_pragma=busy_timeout(5000)"
	if store.IsPostgres(e.dbPath) {
		driver, dsn = "pgx", e.dbPath
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return &sqlDB{db, driver == "pgx"}
}

type sqlDB struct {
	*sql.DB
	dollars bool
}

func (d *sqlDB) Exec(q string, args ...any) (sql.Result, error) {
	return d.DB.Exec(d.spell(q), args...)
}
func (d *sqlDB) QueryRow(q string, args ...any) *sql.Row { return d.DB.QueryRow(d.spell(q), args...) }

func (d *sqlDB) spell(q string) string {
	if !d.dollars {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestCSVExports(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org")
	sub := &letter.Submission{FirstName: "=cmd", LastName: "Lee", Email: "bob@example.org", Subject: "s", Body: "b",
		AcceptPrivacy: true, ConsentUpdates: true}
	if _, err := e.letters.Sign(context.Background(), e.camp, sub); err != nil {
		t.Fatal(err)
	}
	e.login()
	readCSV := func(path string) [][]string {
		t.Helper()
		r := e.get(path)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("%s: %d %v", path, r.status, r.header)
		}
		recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	msgs := readCSV("/admin/messages.csv")
	if len(msgs) != 1+8 || strings.Join(msgs[0], ",") != "id,target_id,target_email,supporter_email,status,attempts,last_error,provider_message_id,queued_at,sent_at,updated_at,campaign,digest_id,area,areas_version" {
		t.Fatalf("messages.csv: %d records, header %v", len(msgs), msgs[0])
	}
	for _, rec := range msgs[1:] {
		if len(rec) != 15 {
			t.Fatalf("row has %d fields", len(rec))
		}
	}
	if got := readCSV("/admin/messages.csv?target=ted-sarandos&email=bob@example.org"); len(got) != 2 {
		t.Fatalf("filtered export: %d records", len(got))
	}
	sups := readCSV("/admin/supporters.csv")
	if len(sups) != 3 || strings.Join(sups[0], ",") != "id,email,first_name,last_name,postcode,consent_updates,consent_version,privacy_version,status,created_at,source" {
		t.Fatalf("supporters.csv: %v", sups)
	}
	bob := sups[2]
	if bob[1] != "bob@example.org" || bob[2] != "'=cmd" || bob[5] != "true" || bob[6] != letter.ConsentVersion || sups[1][5] != "false" {
		t.Fatalf("bob = %v, ann = %v", bob, sups[1])
	}
	// Streamed: without a session there is no export.
	e.client.Jar, _ = cookiejar.New(nil)
	if r := e.get("/admin/messages.csv"); r.status != http.StatusSeeOther {
		t.Fatalf("export without session: %d", r.status)
	}
}

// TestCSVIsStreamed checks that the export writes rows as it reads them:
// the first rows reach the client before the handler has finished.
func TestCSVIsStreamed(t *testing.T) {
	e := newEnv(t)
	for i := range 200 { // 800 messages, more than one flush of 256 rows
		e.sign(fmt.Sprintf("s%d@example.org", i))
	}
	e.login()
	req, _ := http.NewRequest("GET", e.http.URL+"/admin/messages.csv", nil)
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if len(res.TransferEncoding) == 0 || res.TransferEncoding[0] != "chunked" {
		t.Fatalf("export is not streamed (transfer encoding %v, length %d)", res.TransferEncoding, res.ContentLength)
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || len(recs) != 801 {
		t.Fatalf("records = %d, %v", len(recs), err)
	}
}

func TestTargetEditRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.login()
	orig, _ := os.ReadFile(e.tfile)
	form := url.Values{"id": {"sarah-new"}, "name": {"Sarah New"}, "title": {"VP"}, "email": {"sarah@example.com"},
		"salutation": {"Ms. New"}, "active": {"1"}}
	if r := e.post("/admin/targets", form); r.status != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	bak, _ := os.ReadFile(e.tfile + ".bak")
	if string(bak) != string(orig) {
		t.Fatal("backup is not the previous file")
	}
	onDisk, err := target.Load(e.tfile)
	if err != nil {
		t.Fatal(err)
	}
	if onDisk[len(onDisk)-1].ID != "sarah-new" {
		t.Fatalf("file = %+v", onDisk)
	}
	if _, ok := e.targets.Current().ByID("sarah-new"); !ok {
		t.Fatal("new target not in force")
	}
	// A letter written now goes to her too.
	e.sign("after@example.org")
	if n, _ := e.store.Messages(context.Background(), store.MessageFilter{Target: "sarah-new"}); len(n) != 1 {
		t.Fatalf("letters to the new target: %d", len(n))
	}

	form.Set("title", "SVP")
	form.Del("active")
	if r := e.post("/admin/targets/sarah-new", form); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	if tg, _ := e.targets.Current().ByID("sarah-new"); tg.Title != "SVP" || tg.Active {
		t.Fatalf("after edit: %+v", tg)
	}
	if r := e.post("/admin/targets/sarah-new/activate", nil); r.status != http.StatusSeeOther {
		t.Fatalf("activate: %d", r.status)
	}
	if r := e.post("/admin/targets/sarah-new/deactivate", nil); r.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", r.status)
	}
	if tg, _ := e.targets.Current().ByID("sarah-new"); tg.Active {
		t.Fatal("still active")
	}
	if r := e.post("/admin/targets/sarah-new/remove", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.status)
	}
	if _, ok := e.targets.Current().ByID("sarah-new"); ok {
		t.Fatal("removed target still in force")
	}
	if ts, _ := target.Load(e.tfile); len(ts) != len(onDisk)-1 {
		t.Fatalf("file after remove has %d targets", len(ts))
	}
	// Its message stays visible in the console.
	if r := e.get("/admin/targets"); !strings.Contains(r.body, "removed from the file") {
		t.Fatal("removed target's messages not listed")
	}
	if r := e.post("/admin/targets/nobody/remove", nil); r.status != http.StatusNotFound {
		t.Fatalf("remove unknown: %d", r.status)
	}
}

func TestInvalidTargetEditRefused(t *testing.T) {
	e := newEnv(t)
	e.login()
	before := e.targets.Current()
	file, _ := os.ReadFile(e.tfile)
	cases := map[string]url.Values{
		"bad email":    {"id": {"x"}, "name": {"X"}, "title": {"T"}, "email": {"not an email"}, "salutation": {"S"}},
		"duplicate id": {"id": {"ted-sarandos"}, "name": {"X"}, "title": {"T"}, "email": {"x@example.com"}, "salutation": {"S"}},
		"empty name":   {"id": {"x"}, "name": {""}, "title": {"T"}, "email": {"x@example.com"}, "salutation": {"S"}},
		"bad id":       {"id": {"Not Valid"}, "name": {"X"}, "title": {"T"}, "email": {"x@example.com"}, "salutation": {"S"}},
	}
	for name, form := range cases {
		r := e.post("/admin/targets", form)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "were not saved") {
			t.Fatalf("%s: %d", name, r.status)
		}
	}
	r := e.post("/admin/targets/ted-sarandos", url.Values{"name": {"Ted"}, "title": {"T"}, "email": {"bad"}, "salutation": {"S"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad edit: %d", r.status)
	}
	if e.targets.Current() != before {
		t.Fatal("list changed after refused edits")
	}
	if now, _ := os.ReadFile(e.tfile); string(now) != string(file) {
		t.Fatal("file changed after refused edits")
	}
}

func TestWatcherPicksUpHandEditThroughConsole(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloaded := make(chan error, 4)
	if err := e.targets.Watch(ctx, target.WatchOptions{Interval: 20 * time.Millisecond, Debounce: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnReload: func(err error) { reloaded <- err }}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(e.tfile)
	edited := strings.Replace(string(data), "Ted Sarandos", "Theodore Sarandos", 1)
	if err := os.WriteFile(e.tfile, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-reloaded:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reload")
	}
	e.login()
	if r := e.get("/admin/targets"); !strings.Contains(r.body, "Theodore Sarandos") {
		t.Fatal("console does not show the hand edit")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPauseResumeObservedBySender(t *testing.T) {
	e := newEnv(t)
	e.login()
	if r := e.post("/admin/pause", nil); r.status != http.StatusSeeOther {
		t.Fatalf("pause: %d", r.status)
	}
	if p, why := e.sender.Paused(); !p || why == "" {
		t.Fatal("sender not paused")
	}
	if p, _, _ := e.store.CampaignPause(context.Background()); !p {
		t.Fatal("pause not persisted")
	}
	e.run()
	e.sign("a@example.org") // accepted while paused: queued
	r := e.get("/admin")
	if !strings.Contains(r.body, "Sending is paused") || !strings.Contains(r.body, "still accepted") {
		t.Fatal("dashboard has no pause banner")
	}
	if c, _ := e.store.StatusCounts(context.Background(), e.camp.Slug); c["queued"] != 4 {
		t.Fatalf("counts while paused: %v", c)
	}
	if r := e.post("/admin/resume", nil); r.status != http.StatusSeeOther {
		t.Fatalf("resume: %d", r.status)
	}
	waitFor(t, "sent after resume", func() bool { return len(e.mailer.Sent()) == 4 })
	if p, _, _ := e.store.CampaignPause(context.Background()); p {
		t.Fatal("pause still persisted after resume")
	}

	// Resume also clears the sender's own pause after a 401/403.
	e.sender.Pause("provider refused the credentials (HTTP 401)")
	r = e.get("/admin")
	if !strings.Contains(r.body, "HTTP 401") {
		t.Fatal("dashboard does not say why sending is paused")
	}
	e.post("/admin/resume", nil)
	if p, _ := e.sender.Paused(); p {
		t.Fatal("resume did not clear the 401 pause")
	}
}

func TestTargetPauseAndAttention(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.post("/admin/targets/ted-sarandos/pause", nil)
	e.run()
	e.sign("a@example.org")
	waitFor(t, "other targets sent", func() bool { return len(e.mailer.Sent()) == 3 })
	if st, _ := e.store.TargetStates(context.Background()); !st["ted-sarandos"].Paused {
		t.Fatal("target not paused")
	}
	e.post("/admin/targets/ted-sarandos/resume", nil)
	waitFor(t, "paused target sent after resume", func() bool { return len(e.mailer.Sent()) == 4 })

	e.exec(`UPDATE target_state SET needs_attention = 1, attention_note = 'bounced' WHERE target_id = 'ted-sarandos'`)
	if r := e.get("/admin/targets"); !strings.Contains(r.body, "needs attention") {
		t.Fatal("needs-attention not shown")
	}
	if r := e.post("/admin/targets/ted-sarandos/clear-attention", nil); r.status != http.StatusSeeOther {
		t.Fatalf("clear: %d", r.status)
	}
	if st, _ := e.store.TargetStates(context.Background()); st["ted-sarandos"].NeedsAttention {
		t.Fatal("attention not cleared")
	}
}

func TestRetryAndCancel(t *testing.T) {
	e := newEnv(t)
	e.sign("a@example.org")
	e.login()
	rows, _ := e.store.Messages(context.Background(), store.MessageFilter{})
	failed, queued := rows[0].ID, rows[1].ID
	setStatus(t, e, failed, "failed")
	if r := e.post(fmt.Sprintf("/admin/messages/%d/retry", failed), nil); r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "ok=retried") {
		t.Fatalf("retry: %d %s", r.status, r.header.Get("Location"))
	}
	if m, _ := e.store.Message(context.Background(), failed); m.Status != "queued" {
		t.Fatalf("after retry: %s", m.Status)
	}
	if r := e.post(fmt.Sprintf("/admin/messages/%d/retry", failed), nil); !strings.HasSuffix(r.header.Get("Location"), "ok=notfailed") {
		t.Fatalf("retry of a queued message: %s", r.header.Get("Location"))
	}
	if r := e.post(fmt.Sprintf("/admin/messages/%d/cancel", queued), nil); !strings.HasSuffix(r.header.Get("Location"), "ok=cancelled") {
		t.Fatalf("cancel: %s", r.header.Get("Location"))
	}
	if m, _ := e.store.Message(context.Background(), queued); m.Status != "cancelled" {
		t.Fatalf("after cancel: %s", m.Status)
	}
	// Retry all failed for a target.
	e.sign("b@example.org")
	ted, _ := e.store.Messages(context.Background(), store.MessageFilter{Target: "ted-sarandos"})
	for _, m := range ted {
		setStatus(t, e, m.ID, "failed")
	}
	if r := e.post("/admin/targets/ted-sarandos/retry-failed", nil); r.status != http.StatusSeeOther {
		t.Fatalf("retry-failed: %d", r.status)
	}
	if n, _ := e.store.Messages(context.Background(), store.MessageFilter{Target: "ted-sarandos", Status: "queued"}); len(n) != len(ted) {
		t.Fatalf("requeued %d of %d", len(n), len(ted))
	}
	if r := e.get("/admin/messages/999999"); r.status != http.StatusNotFound {
		t.Fatalf("unknown message: %d", r.status)
	}
}

func TestMessagePageShowsLetterAndEvents(t *testing.T) {
	e := newEnv(t)
	e.sign("a@example.org")
	rows, _ := e.store.Messages(context.Background(), store.MessageFilter{Target: "ted-sarandos"})
	id := rows[0].ID
	e.exec(`UPDATE messages SET provider_message_id = 'sg-123', last_error = 'temporary: 503' WHERE id = ?`, id)
	e.exec(`INSERT INTO message_events (message_id, event_id, event, type, reason, occurred_at, received_at)
		VALUES (?, 'ev1', 'delivered', '', '250 OK', 1, 2)`, id)
	e.login()
	r := e.get(fmt.Sprintf("/admin/messages/%d", id))
	for _, want := range []string{"Dear Mr. Sarandos,", "Please stop.", "sg-123", "temporary: 503", "delivered", "250 OK", "Cancel"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("message page lacks %q", want)
		}
	}
}

func TestLetterDefaultsPreviewAndPublicPage(t *testing.T) {
	e := newEnv(t)
	e.sign("before@example.org")
	e.login()
	r := e.get("/admin/letter?target=greg-peters")
	if !strings.Contains(r.body, "Dear Mr. Peters,") || !strings.Contains(r.body, "Alex Sample") {
		t.Fatalf("preview for chosen target missing:\n%s", r.body)
	}
	r = e.post("/admin/letter", url.Values{"action": {"preview"}, "target": {"ted-sarandos"}, "subject": {"New subject"}, "body": {"Unsaved draft text"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Unsaved draft text") || !strings.Contains(r.body, "Dear Mr. Sarandos,") {
		t.Fatalf("preview: %d", r.status)
	}
	if _, _, ok, _ := e.store.LetterDefaults(context.Background(), e.camp.Slug); ok {
		t.Fatal("preview saved the letter")
	}
	if r := e.post("/admin/letter", url.Values{"action": {"save"}, "subject": {""}, "body": {"x"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty subject: %d", r.status)
	}
	if r := e.post("/admin/letter", url.Values{"action": {"save"}, "subject": {"Edited subject"}, "body": {"Edited body <b>"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	var camp map[string]any
	r2 := e.get("/api/v1/campaigns/" + e.camp.Slug)
	json.Unmarshal([]byte(r2.body), &camp)
	if camp["subject"] != "Edited subject" || camp["body"] != "Edited body <b>" {
		t.Fatalf("public API defaults: %v %v", camp["subject"], camp["body"])
	}
	if page := e.get("/c/" + e.camp.Slug); !strings.Contains(page.body, "Edited body &lt;b&gt;") || !strings.Contains(page.body, "Edited subject") {
		t.Fatal("campaign page does not start from the edited letter")
	}
	// Stored messages keep their text.
	rows, _ := e.store.Messages(context.Background(), store.MessageFilter{})
	m, _ := e.store.Message(context.Background(), rows[0].ID)
	if m.Subject != "Stop it" || !strings.Contains(m.Copy.Body, "Please stop.") {
		t.Fatalf("stored message changed: %q", m.Subject)
	}
}

func TestTestSend(t *testing.T) {
	e := newEnv(t)
	e.login()
	r := e.post("/admin/letter", url.Values{"action": {"test"}, "subject": {"Hello"}, "body": {"Test body"}, "test_email": {"me@example.org"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "msg-1") || !strings.Contains(r.body, "mailbox") {
		t.Fatalf("test send: %d\n%s", r.status, r.body)
	}
	m := e.mailer.Sent()[0]
	if m.TargetID != "test" || m.TargetEmail != "me@example.org" || !strings.Contains(m.Body, "Test body") || !strings.Contains(m.Subject, "Hello") {
		t.Fatalf("sent %+v", m)
	}
	if r := e.post("/admin/letter", url.Values{"action": {"test"}, "subject": {"Hello"}, "body": {"b"}, "test_email": {"nope"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad address: %d", r.status)
	}
	e.mailer.Fail(&delivery.SendError{Kind: delivery.Unauthorized, Status: 401, Msg: "bad key"})
	r = e.post("/admin/letter", url.Values{"action": {"test"}, "subject": {"Hello"}, "body": {"b"}, "test_email": {"me@example.org"}})
	if !strings.Contains(r.body, "bad key") {
		t.Fatal("mailer error not shown")
	}
}

func TestDashboard(t *testing.T) {
	e := newEnv(t)
	e.sign("a@example.org")
	e.login()
	r := e.get("/admin")
	for _, want := range []string{"<svg", "Letters per hour", "<progress", "Estimated time to empty the queue", "Ted Sarandos", `lang="en"`, "<main", "<nav"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.sign("a@example.org")
	e.sign("A@example.org ") // duplicate
	e.run()
	waitFor(t, "sent", func() bool { return len(e.mailer.Sent()) == 4 })
	waitFor(t, "recorded", func() bool {
		c, _ := e.store.StatusCounts(context.Background(), e.camp.Slug)
		return c["sent"] == 4
	})
	r := e.do("GET", "/metrics", nil, "Authorization", "Bearer "+testToken)
	for _, want := range []string{"outcry_letters_accepted_total 1", "outcry_letters_duplicate_total 1", `outcry_messages{campaign="netflix-baby",status="sent"} 4`,
		"outcry_queue_depth 0", `outcry_provider_responses_total{class="ok"} 4`, "outcry_send_duration_seconds_count 4"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
