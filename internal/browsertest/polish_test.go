package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The console's polish items of issue 26, each as the walk found it.

// inputStyled says whether a field has the console's input style (the
// border and corners of style.css), not the browser's default.
const inputStyled = `(function (sel) { const s = getComputedStyle(document.querySelector(sel));
	return s.borderTopColor === "rgb(102, 102, 102)" && s.borderTopWidth === "2px" && s.borderTopLeftRadius === "4px" })`

func TestConsoleFormStyling(t *testing.T) {
	t.Parallel()
	a := newApp(t, withConsole)
	ct := newConsoleTab(t)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/login"))
	if !eval[bool](t, ct, inputStyled+`("#password")`) {
		t.Error("the password field is unstyled")
	}
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/campaigns"))
	for _, sel := range []string{"#c-goal", "#c-title"} {
		if !eval[bool](t, ct, inputStyled+`("`+sel+`")`) {
			t.Errorf("%s is unstyled", sel)
		}
	}
	// A target's checkbox on its name's line.
	if !eval[bool](t, ct, `(function () {
		const cb = document.getElementById("c-t-ted-sarandos").getBoundingClientRect();
		const l = document.querySelector('label[for="c-t-ted-sarandos"]').getBoundingClientRect();
		return l.top < cb.bottom && l.bottom > cb.top && l.left >= cb.right })()`) {
		t.Error("a target's checkbox sits on a line apart from its name")
	}
	// The summary is as tall as its three rows, not 18 rem.
	if h := eval[float64](t, ct, `document.getElementById("c-summary").getBoundingClientRect().height`); h > 8*16 {
		t.Errorf("the summary box is %.0f px tall", h)
	}
	// The "Test send" heading keeps its distance from the buttons above.
	run(t, ct, chromedp.Navigate(a.URL+"/admin/letter"))
	if gap := eval[float64](t, ct, `document.getElementById("test-h").getBoundingClientRect().top - document.querySelector("form.act .buttons").getBoundingClientRect().bottom`); gap < 16 {
		t.Errorf(`"Test send" is %.0f px below the buttons, want at least 16`, gap)
	}
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

// At 360 px the dashboard's chart is readable and the digests table shows
// Letters and Status without scrolling it.
func TestConsoleAt360(t *testing.T) {
	t.Parallel()
	a := newFullConsole(t)
	ct := newConsoleTab(t)
	viewport(t, ct, 360, 740, true)
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin"))
	small := eval[[]string](t, ct, `Array.from(document.querySelectorAll("svg.chart text")).filter(e => e.getBoundingClientRect().height < 12).map(e => e.textContent + ": " + e.getBoundingClientRect().height.toFixed(1) + " px")`)
	if n := eval[int](t, ct, `document.querySelectorAll("svg.chart text").length`); n < 3 || len(small) > 0 {
		t.Errorf("the chart's %d labels at 360 px; too small to read: %v", n, small)
	}
	run(t, ct, chromedp.Navigate(a.URL+"/admin/digests"))
	for _, col := range []string{"Letters", "Status"} {
		right := eval[float64](t, ct, `(function () { const th = Array.from(document.querySelectorAll("table th")).find(th => th.textContent === "`+col+`"); const td = document.querySelector("table tbody tr td:nth-child(" + (th.cellIndex + 1) + ")"); return Math.max(th.getBoundingClientRect().right, td.getBoundingClientRect().right) })()`)
		if cw := eval[float64](t, ct, `document.documentElement.clientWidth`); right > cw {
			t.Errorf("digests at 360 px: the %s column ends at %.0f px, off the %.0f px screen", col, right, cw)
		}
	}
}

// The thank-you page's receipt link has a copy button (added by the
// script: without JavaScript the field is there to copy by hand).
func TestReceiptLinkCopyButton(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	withAndWithoutJS(t, func(t *testing.T, ctx context.Context, js bool) {
		run(t, ctx, chromedp.Navigate(a.URL+"/"), writeLetter(newAddress()))
		if url := eval[string](t, ctx, `document.getElementById("receipt-url").value`); !strings.Contains(url, "/receipt/") {
			t.Fatalf("receipt link field = %q", url)
		}
		has := eval[bool](t, ctx, `!!document.getElementById("receipt-copy")`)
		if has != js {
			t.Fatalf("receipt copy button present = %v with JavaScript %v", has, js)
		}
		if !js {
			return
		}
		if name := text(t, ctx, "#receipt-copy"); name != "Copy receipt link" {
			t.Errorf("the button says %q", name)
		}
		// Before the click: after a pointer click Chromium shows no
		// focus ring on the elements a11y.js focuses from script.
		checkA11y(t, ctx, "thank-you page with the copy button")
		run(t, ctx, chromedp.Click(chromedp.ID("receipt-copy")))
		got, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("receipt-copied").textContent || null`))
		if err != nil || got != "Receipt link copied" {
			t.Errorf("after the click the status says %q (%v)", got, err)
		}
	})
}
