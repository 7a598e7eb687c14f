package browsertest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
)

// The organizer console (internal/admin) driven in Chromium: log in, edit
// targets, pause and resume sending, filter the send log, and the same
// accessibility, small-screen and CSP checks as the public pages.

// cspWatch is injected into every document of a tab before the page's own
// code: it records each Content-Security-Policy violation the page causes.
const cspWatch = `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`

// consoleTab is a tab that records CSP violations (see cspProblems) and the
// browser console's warnings and errors other than HTTP statuses (see
// consoleErrors).
type consoleTab struct {
	context.Context
	mu   sync.Mutex
	msgs []string
}

func newConsoleTab(t *testing.T) *consoleTab {
	t.Helper()
	ctx := tab(t)
	if err := chromedp.Do(ctx); err != nil { // open the tab
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}); err != nil {
		t.Fatal(err)
	}
	ct := &consoleTab{Context: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			// "network" entries are HTTP statuses (a 401 for a wrong
			// password, the missing favicon): the tests check those.
			if m.Source != "network" && (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException()) {
				ct.mu.Lock()
				ct.msgs = append(ct.msgs, fmt.Sprintf("%s (%s %s)", m, m.Source, m.URL))
				ct.mu.Unlock()
			}
		}
	}()
	return ct
}

// consoleErrors are the warnings and errors the browser console has shown
// so far (a CSP violation is one, with source "security").
func (ct *consoleTab) consoleErrors() []string {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return append([]string(nil), ct.msgs...)
}

// checkPage fails the test when the page in the tab broke the CSP or has no
// console stylesheet applied.
func checkPage(t *testing.T, ct *consoleTab, name string) {
	t.Helper()
	if v := eval[[]string](t, ct, `window.__csp || ["the CSP watcher did not run"]`); len(v) > 0 {
		t.Errorf("%s: Content-Security-Policy violations:\n%s", name, strings.Join(v, "\n"))
	}
	// admin.css lays the header out as a flex row; style.css sets the font.
	if d := eval[string](t, ct, `getComputedStyle(document.querySelector("header.site")).display`); d != "flex" {
		t.Errorf("%s: header.site display is %q: admin.css not applied", name, d)
	}
}

// login logs in through the form with a password and waits for the page it loads.
func login(t *testing.T, ctx context.Context, a *app, password string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(a.URL+"/admin/login"),
		chromedp.SetValue(chromedp.CSS("#password"), password))
	clickAndLoad(t, ctx, `form[action="/admin/login"] button`)
}

// path is the path and query of the tab's page.
func path(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, `location.pathname + location.search`)
}

// sign writes a letter as a supporter (stored and queued for every active target).
func sign(t *testing.T, a *app, email string) {
	t.Helper()
	sub := &letter.Submission{FirstName: "Ann", LastName: "Lee", Email: email, Subject: "Please stop",
		Body: "Please stop this production.", AcceptPrivacy: true}
	if _, err := a.Letters.Sign(context.Background(), a.Campaign, sub); err != nil {
		t.Fatal(err)
	}
}

// exec runs SQL on the app's database (to give messages other statuses).
func (a *app) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.DBPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func countStatus(t *testing.T, a *app, status string) int {
	t.Helper()
	n := 0
	for _, m := range a.messages(t) {
		if m.Status == status {
			n++
		}
	}
	return n
}

func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t, withConsole)
	ct := newConsoleTab(t)

	// Without a session the console sends the organizer to the login page.
	run(t, ct, chromedp.Navigate(a.URL+"/admin/targets"))
	if p := path(t, ct); p != "/admin/login" {
		t.Fatalf("without a session /admin/targets shows %s, want /admin/login", p)
	}
	checkPage(t, ct, "login")

	login(t, ct, a, "not the password")
	if p := path(t, ct); p != "/admin/login" {
		t.Fatalf("a wrong password led to %s", p)
	}
	if msg := text(t, ct, `[role=alert]`); !strings.Contains(msg, "That password is not right.") {
		t.Errorf("wrong password: alert says %q", msg)
	}
	if n := eval[int](t, ct, `document.querySelectorAll("nav[aria-label=Console]").length`); n != 0 {
		t.Error("the console menu is shown after a wrong password")
	}
	if problems := a11yProblems(t, ct); len(problems) > 0 {
		t.Errorf("login page with an error: accessibility problems:\n%s", strings.Join(problems, "\n"))
	}

	login(t, ct, a, consolePassword)
	if p := path(t, ct); p != "/admin" {
		t.Fatalf("after logging in the browser is at %s, want /admin", p)
	}
	if h := text(t, ct, "h1"); h != "Dashboard" {
		t.Errorf("h1 after login = %q", h)
	}
	checkPage(t, ct, "dashboard")

	// Log out with the menu's button: the console is closed again.
	clickAndLoad(t, ct, `form[action="/admin/logout"] button`)
	if flash := text(t, ct, ".flash"); !strings.Contains(flash, "logged out") {
		t.Errorf("after logout the flash says %q", flash)
	}
	run(t, ct, chromedp.Navigate(a.URL+"/admin"))
	if p := path(t, ct); p != "/admin/login" {
		t.Errorf("after logout /admin shows %s", p)
	}
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

func TestConsoleEditTarget(t *testing.T) {
	t.Parallel()
	a := newApp(t, withConsole)
	ct := newConsoleTab(t)
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/targets"))
	checkPage(t, ct, "targets")
	before, err := os.ReadFile(a.TargetsPath)
	if err != nil {
		t.Fatal(err)
	}

	// Edit Greg Peters' title through the form.
	clickAndLoad(t, ct, `a[href="/admin/targets/greg-peters"]`)
	checkPage(t, ct, "target")
	if v := eval[string](t, ct, `document.getElementById("t-title").value`); v != "Co-Chief Executive Officer, Netflix" {
		t.Fatalf("the form shows title %q", v)
	}
	const title = "Chief Product Officer, Netflix"
	run(t, ct, chromedp.SetValue(chromedp.CSS("#t-title"), title))
	clickAndLoad(t, ct, `form.act button`)
	if p := path(t, ct); p != "/admin/targets?ok=saved" {
		t.Fatalf("after saving the browser is at %s", p)
	}
	if flash := text(t, ct, ".flash"); !strings.Contains(flash, "Targets saved") {
		t.Errorf("flash after saving: %q", flash)
	}
	row := text(t, ct, `tr:has(a[href="/admin/targets/greg-peters"]) td`)
	if !strings.Contains(row, "Greg Peters, "+title) {
		t.Errorf("the targets table shows %q, want the new title", row)
	}

	// Deactivate Bela Bajaria with the row's button.
	clickAndLoad(t, ct, `form[action="/admin/targets/bela-bajaria/deactivate"] button`)
	if flash := text(t, ct, ".flash"); !strings.Contains(flash, "deactivated") {
		t.Errorf("flash after deactivating: %q", flash)
	}
	if state := text(t, ct, `tr:has(a[href="/admin/targets/bela-bajaria"]) td:nth-child(2)`); !strings.HasPrefix(state, "inactive") {
		t.Errorf("Bela Bajaria's state is %q, want inactive", state)
	}
	if n := eval[int](t, ct, `document.querySelectorAll('form[action="/admin/targets/bela-bajaria/activate"]').length`); n != 1 {
		t.Error("no Activate button for the deactivated target")
	}

	// The file on disk has both changes, and the previous version is kept.
	after, err := os.ReadFile(a.TargetsPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(after)
	if !strings.Contains(s, title) {
		t.Errorf("targets.yaml does not have the new title:\n%s", s)
	}
	bela := s[strings.Index(s, "id: bela-bajaria"):]
	if i := strings.Index(bela[1:], "- id:"); i > 0 {
		bela = bela[:i]
	}
	if !strings.Contains(bela, "active: false") {
		t.Errorf("targets.yaml does not have bela-bajaria inactive:\n%s", bela)
	}
	bak, err := os.ReadFile(a.TargetsPath + ".bak")
	if err != nil {
		t.Fatalf("no backup of the targets file: %v", err)
	}
	if string(bak) == string(after) || !strings.Contains(string(bak), "bela-bajaria") {
		t.Errorf("the .bak file is not a previous version:\n%s", bak)
	}
	if string(before) == string(after) {
		t.Error("targets.yaml did not change")
	}

	// A new letter goes to the three active targets only, Greg with his new title.
	sign(t, a, "after.edit@example.org")
	if n := len(a.messages(t)); n != 3 {
		t.Errorf("a letter after deactivating one of four targets made %d messages, want 3", n)
	}
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

func TestConsolePauseAndResume(t *testing.T) {
	t.Parallel()
	a := newApp(t, withSender)
	ct := newConsoleTab(t)
	login(t, ct, a, consolePassword)
	if n := eval[int](t, ct, `document.querySelectorAll(".banner").length`); n != 0 {
		t.Fatal("a paused banner before pausing")
	}

	clickAndLoad(t, ct, `form[action="/admin/pause"] button`)
	checkPage(t, ct, "dashboard paused")
	if b := text(t, ct, ".banner"); !strings.Contains(b, "Sending is paused") {
		t.Errorf("banner after pausing: %q", b)
	}
	if p, why := a.Sender.Paused(); !p || why == "" {
		t.Fatalf("the sender is not paused (paused %v, reason %q)", p, why)
	}
	if paused, _, err := a.Store.CampaignPause(context.Background()); err != nil || !paused {
		t.Errorf("the pause is not saved for a restart: %v %v", paused, err)
	}

	// Letters written while paused wait in the queue.
	sign(t, a, "one@example.org")
	sign(t, a, "two@example.org")
	a.Sender.Notify()
	time.Sleep(300 * time.Millisecond) // 15 poll intervals of the sender
	if n := countStatus(t, a, "queued"); n != 8 {
		t.Fatalf("%d messages queued while paused, want 8 (%v)", n, a.messages(t))
	}
	if n := a.DryRun.Count(); n != 0 {
		t.Fatalf("the mailer was given %d messages while paused", n)
	}
	run(t, ct, chromedp.Reload())
	if q := text(t, ct, `#queue-h + p strong`); q != "8" {
		t.Errorf("dashboard shows %q messages waiting, want 8", q)
	}

	clickAndLoad(t, ct, `form[action="/admin/resume"] button`)
	if flash := text(t, ct, ".flash"); !strings.Contains(flash, "resumed") {
		t.Errorf("flash after resuming: %q", flash)
	}
	if n := eval[int](t, ct, `document.querySelectorAll(".banner").length`); n != 0 {
		t.Error("the paused banner is still shown after resuming")
	}
	if p, _ := a.Sender.Paused(); p {
		t.Fatal("the sender is still paused")
	}
	deadline := time.Now().Add(20 * time.Second)
	for countStatus(t, a, "sent") < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("after resuming the queue was not sent: %v", a.messages(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
	run(t, ct, chromedp.Reload())
	if q := text(t, ct, `#queue-h + p strong`); q != "0" {
		t.Errorf("dashboard shows %q messages waiting after sending, want 0", q)
	}
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

func TestConsoleSendLogFilter(t *testing.T) {
	t.Parallel()
	a := newApp(t, withConsole) // no sender: the statuses stay as set here
	for _, email := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		sign(t, a, email)
	}
	// 12 messages (3 supporters × 4 targets): two sent, one failed.
	a.exec(t, `UPDATE messages SET status = 'sent', attempts = 1 WHERE target_id = 'ted-sarandos' AND supporter_id IN (SELECT id FROM supporters WHERE email IN ('a@example.org', 'b@example.org'))`)
	a.exec(t, `UPDATE messages SET status = 'failed', attempts = 1, last_error = 'permanent (HTTP 400): bad address' WHERE target_id = 'greg-peters' AND supporter_id = (SELECT id FROM supporters WHERE email = 'c@example.org')`)

	ct := newConsoleTab(t)
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/messages"))
	checkPage(t, ct, "send log")

	type row struct{ Target, Supporter, Status string }
	rows := func() []row {
		return eval[[]row](t, ct, `Array.from(document.querySelectorAll("table tbody tr")).map(r => ({Target: r.cells[2].textContent, Supporter: r.cells[3].textContent, Status: r.cells[1].textContent}))`)
	}
	filter := func(status, target string) []row {
		t.Helper()
		run(t, ct, chromedp.SetValue(chromedp.CSS("#f-status"), status), chromedp.SetValue(chromedp.CSS("#f-target"), target))
		clickAndLoad(t, ct, `form.filters button`)
		return rows()
	}
	if n := len(rows()); n != 12 {
		t.Fatalf("unfiltered send log shows %d rows, want 12", n)
	}

	got := filter("failed", "")
	if len(got) != 1 || got[0] != (row{"greg-peters", "c@example.org", "failed"}) {
		t.Errorf("status=failed shows %v", got)
	}
	if p := path(t, ct); !strings.Contains(p, "status=failed") {
		t.Errorf("the filter is not in the address: %s", p)
	}
	if v := eval[string](t, ct, `document.getElementById("f-status").value`); v != "failed" {
		t.Errorf("the status menu shows %q after filtering", v)
	}

	got = filter("", "ted-sarandos")
	if len(got) != 3 {
		t.Errorf("target=ted-sarandos shows %d rows, want 3: %v", len(got), got)
	}
	for _, r := range got {
		if r.Target != "ted-sarandos" {
			t.Errorf("target=ted-sarandos shows a row for %s", r.Target)
		}
	}

	got = filter("sent", "ted-sarandos")
	if len(got) != 2 {
		t.Errorf("status=sent&target=ted-sarandos shows %d rows, want 2: %v", len(got), got)
	}
	for _, r := range got {
		if r.Target != "ted-sarandos" || r.Status != "sent" || r.Supporter == "c@example.org" {
			t.Errorf("status=sent&target=ted-sarandos shows %v", r)
		}
	}

	got = filter("sent", "greg-peters")
	if len(got) != 0 || !strings.Contains(text(t, ct, "main"), "No messages match.") {
		t.Errorf("status=sent&target=greg-peters shows %v, want none and a message", got)
	}

	// Clear shows everything again; a status link on the dashboard filters too.
	clickAndLoad(t, ct, `form.filters a`)
	if n := len(rows()); n != 12 {
		t.Errorf("after Clear the send log shows %d rows, want 12", n)
	}
	run(t, ct, chromedp.Navigate(a.URL+"/admin"))
	clickAndLoad(t, ct, `a[href="/admin/messages?status=failed"]`)
	if got := rows(); len(got) != 1 || got[0].Status != "failed" {
		t.Errorf("the dashboard's failed link shows %v", got)
	}
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

// consolePages are the console's pages for the accessibility and
// small-screen checks (logged in).
// Every page of the console (issue 26), with two campaigns (newFullConsole).
var consolePages = []struct{ name, path string }{
	{"dashboard", "/admin"},
	{"campaigns", "/admin/campaigns"},
	{"campaign", "/admin/campaigns/netflix-baby"},
	{"second campaign", "/admin/campaigns/save-the-park"},
	{"targets", "/admin/targets"},
	{"target", "/admin/targets/ted-sarandos"},
	{"areas", "/admin/areas"},
	{"letter", "/admin/letter"},
	{"send log", "/admin/messages"},
	{"send log with an error", "/admin/messages?status=nope"},
	{"message", "/admin/messages/1"},
	{"digests", "/admin/digests"},
	{"digest", "/admin/digests?id=1"},
	{"replies", "/admin/replies"},
	{"letters read", "/admin/reading"},
	{"supporters", "/admin/supporters"},
	{"webhooks", "/admin/webhooks"},
	// Last: choosing it makes it the console's campaign for later pages.
	{"dashboard of the second campaign", "/admin?campaign=save-the-park"},
}

// newBusyConsole is a console app with letters in several states.
func newBusyConsole(t *testing.T) *app {
	t.Helper()
	a := newApp(t, withConsole)
	for i := range 3 {
		sign(t, a, fmt.Sprintf("supporter%d@example.org", i))
	}
	a.exec(t, `UPDATE messages SET status = 'sent', attempts = 1, sent_at = queued_at WHERE id IN (1, 2, 5)`)
	a.exec(t, `UPDATE messages SET status = 'failed', attempts = 3, last_error = 'permanent (HTTP 400): does not exist' WHERE id = 3`)
	return a
}

// newFullConsole is newBusyConsole with a second campaign (so the console
// shows its campaign switcher) and a digest that carried two letters.
func newFullConsole(t *testing.T) *app {
	t.Helper()
	a := newBusyConsole(t)
	ctx := context.Background()
	s := func(v string) *string { return &v }
	if _, err := a.Campaigns.Create(ctx, campaign.Input{Slug: s("save-the-park"), Title: s("Save the park"), Story: s("The council wants to sell the park."),
		Subject: s("Keep the park"), Body: s("Please keep the park open for everyone.")}); err != nil {
		t.Fatal(err)
	}
	// The three letters to reed-hastings (messages 4, 8 and 12) are queued: one digest carries them.
	ds, err := a.Store.ClaimDigests(ctx, "browsertest", []store.DigestRequest{{Target: store.ClaimTarget{ID: "reed-hastings", Limit: 1}, Campaign: "netflix-baby", Max: 10}})
	if err != nil || len(ds) != 1 || ds[0].ID != 1 {
		t.Fatalf("digest: %+v (%v)", ds, err)
	}
	if err := a.Store.FinishDigests(ctx, []delivery.Outcome{{ID: ds[0].ID, Digest: true, Status: "sent", Attempted: true, ProviderID: "dry-run:digest"}}); err != nil {
		t.Fatal(err)
	}
	return a
}

// Every console page with two campaigns: no violation of any rule axe-core
// runs by default, best practices included (issue 26), nor of our own
// checks.
func TestConsoleAccessibility(t *testing.T) {
	t.Parallel()
	a := newFullConsole(t)
	ct := newConsoleTab(t)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/login"))
	if problems := allA11yProblems(t, ct); len(problems) > 0 {
		t.Errorf("login: accessibility problems:\n%s", strings.Join(problems, "\n"))
	}
	// The page of a form that expired (a forged token).
	if _, err := chromedp.Run(ct, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[bool](
		`(function(){ const f = document.querySelector('form[action="/admin/login"]'); f.csrf.value = "forged"; f.submit(); return true })()`))); err != nil {
		t.Fatalf("post a forged login form: %v", err)
	}
	if h := text(t, ct, "h1"); h != "Form expired" {
		t.Errorf("a forged login form shows %q", h)
	}
	if problems := allA11yProblems(t, ct); len(problems) > 0 {
		t.Errorf("form expired: accessibility problems:\n%s", strings.Join(problems, "\n"))
	}
	login(t, ct, a, consolePassword)
	if n := eval[int](t, ct, `document.querySelectorAll("#switch-campaign option").length`); n != 2 {
		t.Fatalf("the campaign switcher offers %d campaigns, want 2", n)
	}
	for _, p := range consolePages {
		t.Run(p.name, func(t *testing.T) {
			run(t, ct, chromedp.Navigate(a.URL+p.path))
			checkPage(t, ct, p.name)
			if problems := allA11yProblems(t, ct); len(problems) > 0 {
				t.Errorf("accessibility problems:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
	// Forms refused: a new campaign with a bad time zone (every group
	// folded but the refused one's), a target without a name.
	t.Run("campaign refused", func(t *testing.T) {
		run(t, ct, chromedp.Navigate(a.URL+"/admin/campaigns"))
		if _, err := chromedp.Run(ct, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[bool](`(function(){
			const f = document.querySelector('form[action="/admin/campaigns"]');
			f.slug.value = "third"; f.title.value = "Third"; f.story.value = "S."; f.subject.value = "S"; f.body.value = "B.";
			f.timezone.value = "Nowhere/Special"; f.submit(); return true })()`))); err != nil {
			t.Fatal(err)
		}
		if open := eval[string](t, ct, `Array.from(document.querySelectorAll("details[open]")).map(d => d.id).join(",")`); open != "g-hours" {
			t.Errorf("open groups after refusing the time zone: %q", open)
		}
		checkPage(t, ct, "campaign refused")
		if problems := allA11yProblems(t, ct); len(problems) > 0 {
			t.Errorf("accessibility problems:\n%s", strings.Join(problems, "\n"))
		}
	})
	// Remove's confirmation page (reached by its button: it is a post).
	t.Run("remove target", func(t *testing.T) {
		run(t, ct, chromedp.Navigate(a.URL+"/admin/targets"))
		clickAndLoad(t, ct, `form[action="/admin/targets/reed-hastings/remove"] button`)
		if problems := allA11yProblems(t, ct); len(problems) > 0 {
			t.Errorf("accessibility problems:\n%s", strings.Join(problems, "\n"))
		}
	})
	// Every group of the campaign form open.
	t.Run("campaign form open", func(t *testing.T) {
		run(t, ct, chromedp.Navigate(a.URL+"/admin/campaigns/save-the-park"))
		eval[bool](t, ct, `(document.querySelectorAll("details").forEach(d => d.open = true), true)`)
		if problems := allA11yProblems(t, ct); len(problems) > 0 {
			t.Errorf("accessibility problems:\n%s", strings.Join(problems, "\n"))
		}
	})
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

func TestConsoleNoHorizontalScroll(t *testing.T) {
	t.Parallel()
	a := newFullConsole(t)
	ct := newConsoleTab(t)
	viewport(t, ct, 360, 740, true)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/login"))
	pages := append([]struct{ name, path string }{{"login", ""}}, consolePages...)
	for i, p := range pages {
		if i == 1 {
			login(t, ct, a, consolePassword)
		}
		if p.path != "" {
			run(t, ct, chromedp.Navigate(a.URL+p.path))
		}
		sw := eval[int](t, ct, `document.documentElement.scrollWidth`)
		cw := eval[int](t, ct, `document.documentElement.clientWidth`)
		if sw > cw {
			wide := eval[[]string](t, ct, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest(".scroll")).slice(0, 5).map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className)`)
			t.Errorf("%s at 360 px: scrollWidth %d > clientWidth %d; too wide: %v", p.name, sw, cw, wide)
		}
		// A wide table scrolls in its box; its words are not broken
		// letter by letter to squeeze it in (no text in a cell has more
		// lines than words; a line may end at a hyphen).
		broken := eval[[]string](t, ct, `(function () {
			const out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
			for (let n; (n = w.nextNode());) {
				if (!n.parentElement.closest("th, td")) continue;
				const words = n.textContent.trim().split(/[\s-]+/).filter(Boolean).length, r = document.createRange();
				r.selectNodeContents(n);
				const lines = new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size;
				if (words > 0 && lines > words) out.push(n.textContent.trim());
			}
			return out.slice(0, 5) })()`)
		if len(broken) > 0 {
			t.Errorf("%s at 360 px: table cells with words broken across lines: %q", p.name, broken)
		}
		// The send log's Status column is on screen without scrolling
		// its table.
		if p.path == "/admin/messages" {
			right := eval[float64](t, ct, `(function () { const th = Array.from(document.querySelectorAll("table th")).find(th => th.textContent === "Status"); const td = document.querySelector("table tbody tr td:nth-child(" + (th.cellIndex + 1) + ")"); return Math.max(th.getBoundingClientRect().right, td.getBoundingClientRect().right) })()`)
			if cw := eval[float64](t, ct, `document.documentElement.clientWidth`); right > cw {
				t.Errorf("send log at 360 px: the Status column ends at %.0f px, off the %.0f px screen", right, cw)
			}
		}
	}
}

// TestConsoleScreenshots saves the console dashboard (desktop and 360 px)
// and the targets page next to the public pages' screenshots.
func TestConsoleScreenshots(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("OUTCRY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newBusyConsole(t)
	shots := []struct {
		file   string
		width  int64
		mobile bool
		path   string
	}{
		{"console-dashboard-desktop.png", 1280, false, "/admin"},
		{"console-dashboard-360.png", 360, true, "/admin"},
		{"console-targets-desktop.png", 1280, false, "/admin/targets"},
		{"console-sendlog-desktop.png", 1280, false, "/admin/messages"},
		{"console-sendlog-360.png", 360, true, "/admin/messages"},
		{"console-letter-desktop.png", 1280, false, "/admin/letter?target=greg-peters"},
		{"console-targets-360.png", 360, true, "/admin/targets"},
		{"console-campaign-desktop.png", 1280, false, "/admin/campaigns/netflix-baby"},
		{"console-campaigns-360.png", 360, true, "/admin/campaigns"},
	}
	ctx := tab(t)
	login(t, ctx, a, consolePassword)
	for _, s := range shots {
		viewport(t, ctx, s.width, 800, s.mobile)
		run(t, ctx, chromedp.Navigate(a.URL+s.path))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if len(png) < 1000 {
			t.Fatalf("%s: screenshot of %d bytes", s.file, len(png))
		}
		if err := os.WriteFile(filepath.Join(dir, s.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Remove's confirmation page (reached by its button: it is a post).
	viewport(t, ctx, 1280, 800, false)
	run(t, ctx, chromedp.Navigate(a.URL+"/admin/targets"))
	clickAndLoad(t, ctx, `form[action="/admin/targets/reed-hastings/remove"] button`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "console-remove-desktop.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
}

// Remove asks first, on a page of its own, also without JavaScript; the
// target goes only when the organizer confirms, and the page checks clean.
func TestConsoleRemoveTargetAsksFirst(t *testing.T) {
	t.Parallel()
	a := newApp(t, withConsole)
	ct := newConsoleTab(t)
	noScript(t, ct)
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/targets"))
	clickAndLoad(t, ct, `form[action="/admin/targets/reed-hastings/remove"] button`)
	if h := text(t, ct, "h1"); h != "Remove Reed Hastings?" {
		t.Fatalf("after Remove… the page is %q", h)
	}
	checkPage(t, ct, "remove")
	// axe needs JavaScript (its promises): on for the check, off again.
	if _, err := chromedp.Call(ct, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	checkA11y(t, ct, "remove")
	if _, err := chromedp.Call(ct, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(a.TargetsPath); !strings.Contains(string(data), "reed-hastings") {
		t.Fatal("removed before the organizer confirmed")
	}
	clickAndLoad(t, ct, `form[action="/admin/targets/reed-hastings/remove"] button.danger`)
	if flash := text(t, ct, ".flash"); !strings.Contains(flash, "removed") {
		t.Errorf("flash after removing: %q", flash)
	}
	if data, _ := os.ReadFile(a.TargetsPath); strings.Contains(string(data), "id: reed-hastings") || !strings.Contains(string(data), "PLACEHOLDERS") {
		t.Errorf("targets.yaml after removing (the target gone, the comments kept):\n%s", data)
	}
}
