package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

//go:embed testdata/a11y.js
var a11yJS string

// publicPages are the pages a supporter can reach: the campaign page, the
// same with errors, the thank-you page, an error page and the privacy notice.
func publicPages() []struct {
	name string
	open func(t *testing.T, a *app) []chromedp.Action[chromedp.Void]
} {
	return []struct {
		name string
		open func(t *testing.T, a *app) []chromedp.Action[chromedp.Void]
	}{
		{"campaign", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/")}
		}},
		{"campaign with errors", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), submitEmpty()}
		}},
		{"thank-you", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/c/netflix-baby/thanks")}
		}},
		{"404", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/no-such-page")}
		}},
		{"privacy", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/privacy")}
		}},
		{"thank-you with a receipt link", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), writeLetter(newAddress())}
		}},
		{"embed", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/c/netflix-baby/embed")}
		}},
		{"embed thank-you", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/c/netflix-baby/embed/thanks")}
		}},
		{"receipt", func(t *testing.T, a *app) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), writeLetter(newAddress()), openReceipt()}
		}},
	}
}

// submitEmpty sends the form with nothing filled in (every required field fails).
func submitEmpty() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[bool](
			`(function(){ document.getElementById("f-subject").value = ""; document.querySelector("form[method=post]").submit(); return true })()`))(ctx, tg)
		return err
	})
}

func TestAccessibilityChecks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, p := range publicPages() {
		t.Run(p.name, func(t *testing.T) {
			ctx := tab(t) // a tab each: its deadline covers one page
			run(t, ctx, p.open(t, a)...)
			if problems := a11yProblems(t, ctx); len(problems) > 0 {
				t.Errorf("accessibility problems:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

// Our own checker must be able to fail: a page with the faults axe has no
// rule for (TestAxeFindsProblems covers axe's).
func TestAccessibilityCheckerFindsProblems(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	bad := `<html lang="en"><head><title>x</title></head><body><main><h2>skipped h1</h2>
<input id="a" aria-label="a" aria-describedby="a nope"><a href="/x" style="outline:none">link</a></main></body></html>`
	run(t, ctx, chromedp.Navigate("data:text/html,"+url.PathEscape(bad)))
	problems := strings.Join(eval[[]string](t, ctx, a11yJS), "\n")
	for _, want := range []string{"first heading is h2", "exactly one h1", "points at missing id nope", "no visible focus indicator"} {
		if !strings.Contains(problems, want) {
			t.Errorf("checker missed %q; it found:\n%s", want, problems)
		}
	}
}

// No horizontal scrolling on a phone (360 px) nor at the 320 px of WCAG's
// reflow rule (a 1280 px window at 400 % zoom); 640 px is 200 % zoom.
func TestNoHorizontalScroll(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, width := range []int64{320, 360, 640} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			for _, p := range publicPages() {
				ctx := tab(t) // a tab each: its deadline covers one page
				viewport(t, ctx, width, 740, width < 600)
				run(t, ctx, p.open(t, a)...)
				sw := eval[int](t, ctx, `document.documentElement.scrollWidth`)
				cw := eval[int](t, ctx, `document.documentElement.clientWidth`)
				if sw > cw {
					wide := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className)`)
					t.Errorf("%s at %d px: scrollWidth %d > clientWidth %d; too wide: %v", p.name, width, sw, cw, wide)
				}
			}
		})
	}
}

// The campaign page is light and self-contained: under 100 KB of HTML, CSS
// and JavaScript (the image aside), every resource from our own origin.
func TestPageWeightAndNoThirdParties(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := tab(t)
	run(t, ctx, chromedp.Navigate(a.URL+"/"))
	type entry struct {
		Name      string  `json:"name"`
		Initiator string  `json:"initiatorType"`
		Size      float64 `json:"decodedBodySize"`
	}
	entries := eval[[]entry](t, ctx, `performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).map(e => ({name: e.name, initiatorType: e.initiatorType, decodedBodySize: e.decodedBodySize}))`)
	var total float64
	var kinds []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name, a.URL+"/") {
			t.Errorf("resource from another origin: %s", e.Name)
		}
		if e.Initiator == "img" || strings.HasSuffix(e.Name, ".svg") || strings.HasSuffix(e.Name, ".jpg") || strings.HasSuffix(e.Name, ".png") {
			continue
		}
		total += e.Size
		kinds = append(kinds, fmt.Sprintf("%s %.0f B", strings.TrimPrefix(e.Name, a.URL), e.Size))
	}
	t.Logf("page weight before the image: %.1f KB (%s)", total/1024, strings.Join(kinds, ", "))
	if len(kinds) < 3 {
		t.Fatalf("expected the HTML, CSS and JS among the resources, got %v", kinds)
	}
	if total >= 100*1024 {
		t.Errorf("page weight %.1f KB, want under 100 KB", total/1024)
	}
}

// TestScreenshots saves the pages as PNG files to $OUTCRY_SCREENSHOTS (or a
// temporary folder, logged) so a person can look at them.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("OUTCRY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newApp(t)
	shots := []struct {
		file   string
		width  int64
		mobile bool
		steps  []chromedp.Action[chromedp.Void]
	}{
		{"campaign-desktop.png", 1280, false, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/")}},
		{"campaign-360.png", 360, true, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/")}},
		{"campaign-errors-360.png", 360, true, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), submitEmpty()}},
		{"campaign-360-first-screen.png", 360, true, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/")}},
		{"campaign-1280-first-screen.png", 1280, false, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/")}},
		{"thanks-360.png", 360, true, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), writeLetter("shot.thanks@example.org")}},
		{"receipt-360.png", 360, true, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), writeLetter("shot.receipt360@example.org"), openReceipt()}},
		{"receipt-desktop.png", 1280, false, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/"), writeLetter("shot.receipt@example.org"), openReceipt()}},
		{"404-desktop.png", 1280, false, []chromedp.Action[chromedp.Void]{chromedp.Navigate(a.URL + "/no-such-page")}},
	}
	for _, s := range shots {
		ctx := tab(t)
		viewport(t, ctx, s.width, 800, s.mobile)
		run(t, ctx, s.steps...)
		shot := chromedp.FullScreenshot(100)
		if strings.HasSuffix(s.file, "-first-screen.png") {
			shot = chromedp.CaptureScreenshot() // what a phone shows before any scrolling
		}
		png, err := chromedp.Run(ctx, shot)
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
	t.Logf("screenshots in %s", dir)
}
