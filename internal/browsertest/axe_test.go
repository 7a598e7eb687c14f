package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core, the field's standard accessibility engine, is loaded into each
// page and run with every WCAG 2.0, 2.1 and 2.2 A and AA rule, plus the
// best-practice rules that replace checks testdata/a11y.js used to make
// (one main landmark, heading order, a first-level heading). a11y.js keeps
// only what axe has no rule for.
//
// axe-core is an npm package, pinned in testdata/package.json and
// package-lock.json; `npm ci --prefix internal/browsertest/testdata`
// installs it (.ci/run does). $OUTCRY_AXE points at another axe.min.js.

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

// axePath is where axe.min.js is looked for.
func axePath() string {
	if p := os.Getenv("OUTCRY_AXE"); p != "" {
		return p
	}
	return filepath.Join("testdata", "node_modules", "axe-core", "axe.min.js")
}

// axeSource returns axe-core's script, or skips the test when it is not
// installed (fails under OUTCRY_REQUIRE_BROWSER=1, as a missing browser does).
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(axePath())
		axeSrc = string(b)
	})
	if axeErr != nil {
		msg := fmt.Sprintf("axe-core not installed (%v): run 'npm ci --prefix internal/browsertest/testdata' to run the accessibility tests", axeErr)
		if os.Getenv("OUTCRY_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (OUTCRY_REQUIRE_BROWSER=1: missing axe-core is a failure)")
		}
		t.Skip(msg)
	}
	return axeSrc
}

// axeRun runs axe in the page and returns one line per violation and node.
const axeRun = `(async function () {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];
  const extra = ["landmark-one-main", "heading-order", "page-has-heading-one", "empty-heading", "duplicate-id"];
  const ids = axe.getRules(tags).map(r => r.ruleId).concat(extra.filter(id => axe.getRules().some(r => r.ruleId === id)));
  const res = await axe.run(document, { runOnly: { type: "rule", values: ids }, resultTypes: ["violations"] });
  const out = [];
  for (const v of res.violations) {
    for (const n of v.nodes) {
      out.push(v.id + " (" + v.impact + "): " + v.help + " at " + n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 300));
    }
  }
  return out;
})()`

// axeRunAll runs every rule axe-core enables by default: the WCAG rules
// and all the best practices ("region", "landmark-unique"…), for the
// console (issue 26: "0 violations of any kind").
const axeRunAll = `(async function () {
  const res = await axe.run(document, { resultTypes: ["violations"] });
  const out = [];
  for (const v of res.violations) {
    for (const n of v.nodes) {
      out.push(v.id + " (" + v.impact + "): " + v.help + " at " + n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 300));
    }
  }
  return out;
})()`

// axeProblems runs axe-core in the tab's page (WCAG A and AA and the
// best practices named in axeRun).
func axeProblems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return axeProblemsOf(t, ctx, axeRun)
}

// allA11yProblems is what every default rule of axe-core and our own
// checks (a11y.js) find in the tab's page.
func allA11yProblems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return append(axeProblemsOf(t, ctx, axeRunAll), eval[[]string](t, ctx, a11yJS)...)
}

func axeProblemsOf(t *testing.T, ctx context.Context, script string) []string {
	t.Helper()
	src := axeSource(t)
	if !eval[bool](t, ctx, `typeof window.axe === "object"`) {
		// Evaluated through the DevTools protocol: the page's CSP (no
		// inline script) does not apply, so the page itself is unchanged.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src+"\n;true")); err != nil {
			t.Fatalf("load axe-core: %v", err)
		}
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	return v
}

// a11yProblems is what axe-core and our own checks (a11y.js) find in the
// tab's page.
func a11yProblems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return append(axeProblems(t, ctx), eval[[]string](t, ctx, a11yJS)...)
}

// checkA11y fails the test with every problem found on the page.
func checkA11y(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if problems := a11yProblems(t, ctx); len(problems) > 0 {
		t.Errorf("%s: accessibility problems:\n%s", name, strings.Join(problems, "\n"))
	}
}

// axe must be able to fail: a page with faults axe has rules for.
func TestAxeFindsProblems(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	bad := `<html><head><title>x</title></head><body><h2>skipped h1</h2><h4>skips</h4>
<img src="x.png"><input id="a"><input id="a" aria-describedby="nope"><button></button>
<p style="color:#aaa;background:#fff">faint</p><a href="/x"></a></body></html>`
	run(t, ctx, chromedp.Navigate("data:text/html,"+url.PathEscape(bad)))
	problems := strings.Join(axeProblems(t, ctx), "\n")
	for _, rule := range []string{"html-has-lang", "landmark-one-main", "label", "image-alt", "heading-order",
		"page-has-heading-one", "color-contrast", "link-name", "button-name"} {
		if !strings.Contains(problems, rule+" (") {
			t.Errorf("axe missed %s; it found:\n%s", rule, problems)
		}
	}
}

// The console's check (axeRunAll) includes the best practices: content
// outside every landmark, two landmarks of one name.
func TestAxeAllFindsBestPractices(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	bad := `<html lang="en"><head><title>x</title></head><body><form class="switcher"><label for="s">Campaign</label><select id="s"><option>a</option></select></form>
<main><h1>x</h1><section aria-label="Per target"><p>a</p></section><section aria-label="Per target"><p>b</p></section></main></body></html>`
	run(t, ctx, chromedp.Navigate("data:text/html,"+url.PathEscape(bad)))
	problems := strings.Join(axeProblemsOf(t, ctx, axeRunAll), "\n")
	for _, rule := range []string{"region", "landmark-unique"} {
		if !strings.Contains(problems, rule+" (") {
			t.Errorf("axe (all rules) missed %s; it found:\n%s", rule, problems)
		}
	}
}
