package browsertest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	_ "modernc.org/sqlite"

	"github.com/outcry/outcry"
	outcryapp "github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/reading"
	"github.com/outcry/outcry/internal/store"
)

// chromiumPaths are where a Chromium is looked for, after $OUTCRY_CHROMIUM.
var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

func findChromium() string {
	if p := os.Getenv("OUTCRY_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
	browserDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserCancel()
	if browserDir != "" {
		// Chromium's children may still write there for a moment.
		for range 50 {
			if os.RemoveAll(browserDir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// browser returns a context of the shared headless Chromium, started on
// first use, or skips the test when there is none (fails under
// OUTCRY_REQUIRE_BROWSER=1).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		msg := "no Chromium found (looked at $OUTCRY_CHROMIUM, " + strings.Join(chromiumPaths, ", ") + " and chromium in PATH): install it with 'apt-get install chromium' to run the browser tests"
		if os.Getenv("OUTCRY_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (OUTCRY_REQUIRE_BROWSER=1: a missing browser is a failure)")
		}
		t.Skip(msg)
	}
	browserOnce.Do(func() {
		browserDir, browserErr = os.MkdirTemp("", "outcry-chromium-")
		if browserErr != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.UserDataDir(browserDir),
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.WindowSize(1280, 900),
		)
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox)
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browserCancel = func() { cancelCtx(); cancelAlloc() }
		browserCtx = ctx
		browserErr = chromedp.Do(ctx) // start the browser, without a timeout
	})
	if browserErr != nil {
		t.Fatalf("start Chromium %s: %v", path, browserErr)
	}
	return browserCtx
}

// tab opens a new tab in its own browser context (no shared cookies),
// closed with the test, with a deadline for everything it does.
func tab(t *testing.T) context.Context {
	t.Helper()
	parent := browser(t)
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	// Generous: axe-core takes a second or more per page on a busy machine.
	ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(func() { cancelT(); cancel() })
	// Every tab acts as the focused page: the tests run in parallel tabs of
	// one browser, and :focus-visible (checked by a11y.js) matches only in a
	// page that has focus, so the check failed now and then under load.
	if err := chromedp.Do(ctx); err != nil { // open the tab
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// app is the real web server over a fresh database, built from the same
// embedded templates, static files and bundled campaign as cmd/outcry.
type app struct {
	URL         string
	Store       *store.Store
	DBPath      string
	TargetsPath string
	Campaign    *campaign.Campaign
	Campaigns   *campaign.Service
	Letters     *letter.Service
	Reading     *reading.Links
	// Sender is the real sender with the dry-run mailer, set with
	// withConsole (it runs only with withSender).
	Sender *delivery.Sender
	DryRun *delivery.DryRun
}

// appOptions choose what newApp adds to the public pages.
type appOptions struct {
	console bool // the organizer console at /admin, password consolePassword
	sender  bool // run the sender until the test ends
	env     map[string]string
	// congress runs the second example (examples/congress): letters go
	// to the representative of the supporter's ZIP code.
	congress bool
}

// withCongress runs examples/congress instead of the bundled campaign.
func withCongress(o *appOptions) { o.congress = true }

type appOption func(*appOptions)

// withConsole registers the organizer console (internal/admin) as
// cmd/outcry does, with the password consolePassword.
func withConsole(o *appOptions) { o.console = true }

// withSender also runs the real delivery.Sender (dry-run mailer).
func withSender(o *appOptions) { o.console, o.sender = true, true }

// withEnv sets an OUTCRY_* variable of the app.
func withEnv(k, v string) appOption {
	return func(o *appOptions) {
		if o.env == nil {
			o.env = map[string]string{}
		}
		o.env[k] = v
	}
}

const consolePassword = "browser test organizer password"

func newApp(t *testing.T, options ...appOption) *app {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	targets, err := outcry.Bundled("targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpath := filepath.Join(dir, "targets.yaml")
	if err := os.WriteFile(tpath, targets, 0o644); err != nil {
		t.Fatal(err)
	}
	var o appOptions
	for _, f := range options {
		f(&o)
	}
	hs := httptest.NewUnstartedServer(nil)
	// The service is built as cmd/outcry builds it (internal/app), from
	// its environment: the bundled campaign, a fresh database, the
	// dry-run mailer.
	env := map[string]string{
		"OUTCRY_DB":            filepath.Join(dir, "outcry.db"),
		"OUTCRY_TARGETS":       tpath,
		"OUTCRY_CAMPAIGN":      filepath.Join(dir, "campaign.yaml"), // missing: the bundled campaign
		"OUTCRY_BASE_URL":      "http://" + hs.Listener.Addr().String(),
		"OUTCRY_SUBMIT_RATE":   "0", // the tests post from one address
		"OUTCRY_FORM_MIN_TIME": "0", // a browser fills the form at once
		"OUTCRY_SEND_RATE":     "0",
		"OUTCRY_SPREAD":        "off", // the tests watch capped targets' emails go within seconds
	}
	if o.console {
		env["OUTCRY_ADMIN_PASSWORD"] = consolePassword
	}
	slug := "netflix-baby"
	if o.congress {
		for _, f := range []string{"campaign.yaml", "targets.yaml", "areas.csv"} {
			b, err := os.ReadFile(filepath.Join("..", "..", "examples", "congress", f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		env["OUTCRY_CAMPAIGN"] = filepath.Join(dir, "campaign.yaml")
		env["OUTCRY_AREAS"] = filepath.Join(dir, "areas.csv")
		slug = "fund-libraries"
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	built, err := outcryapp.Build(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { built.Store.Close() })
	camp, _ := built.Campaigns.Get(slug)
	a := &app{Store: built.Store, DBPath: env["OUTCRY_DB"], TargetsPath: tpath, Campaign: camp, Campaigns: built.Campaigns, Letters: built.Letters, Reading: built.Reading}
	if o.console {
		a.Sender = built.Sender
		a.DryRun, _ = built.Sender.Mailer().(*delivery.DryRun)
	}
	if o.sender {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { built.Sender.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	hs.Config.Handler = built.Web.Echo
	hs.Start()
	t.Cleanup(hs.Close)
	a.URL = hs.URL
	return a
}

// queuedMessage is one row of the send log, with the letter it copies.
type queuedMessage struct{ Status, Subject, Body, Signer string }

func (a *app) messages(t *testing.T) []queuedMessage {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.DBPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT m.status, s.subject, s.body, s.first_name || ' ' || s.last_name
		FROM messages m JOIN supporters s ON s.id = m.supporter_id ORDER BY m.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queuedMessage
	for rows.Next() {
		var m queuedMessage
		if err := rows.Scan(&m.Status, &m.Subject, &m.Body, &m.Signer); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// run runs browser steps, failing the test on error.
func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the text of the element matching a CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// clickAndLoad clicks and waits for the page the click loads.
func clickAndLoad(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// noScript turns JavaScript off in the tab (for pages loaded afterwards).
func noScript(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil { // open the tab first
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
}

// viewport sets the tab's width and height in CSS pixels (mobile: touch and
// mobile layout).
func viewport(t *testing.T, ctx context.Context, w, h int64, mobile bool) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	run(t, ctx, chromedp.EmulateViewport(w, h, opts...))
}

// campaignMessages lists the send log's messages, oldest first, with their
// campaign, target and letter subject.
func (a *app) campaignMessages(t *testing.T) []struct{ Campaign, Target, Subject string } {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.DBPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT m.campaign, m.target_id, s.subject FROM messages m JOIN supporters s ON s.id = m.supporter_id
		WHERE m.campaign <> 'netflix-baby' ORDER BY m.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []struct{ Campaign, Target, Subject string }
	for rows.Next() {
		var r struct{ Campaign, Target, Subject string }
		if err := rows.Scan(&r.Campaign, &r.Target, &r.Subject); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// withAndWithoutJS runs f as two subtests: in a tab with JavaScript, and in
// one without (every supporter's page must work both ways).
func withAndWithoutJS(t *testing.T, f func(t *testing.T, ctx context.Context, js bool)) {
	for _, js := range []bool{true, false} {
		name := "with JavaScript"
		if !js {
			name = "without JavaScript"
		}
		t.Run(name, func(t *testing.T) {
			ctx := tab(t)
			if !js {
				noScript(t, ctx)
			}
			f(t, ctx, js)
		})
	}
}
