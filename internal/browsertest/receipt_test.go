package browsertest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

var addressN atomic.Int64

// newAddress is an address that has not written yet (a repeat gets no receipt).
func newAddress() string { return fmt.Sprintf("writer%d@example.org", addressN.Add(1)) }

// writeLetter fills in and sends the form of the page in the tab, as a
// person would, and waits for the thank-you page.
func writeLetter(email string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, step := range []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.ID("f-first_name"), "Ann"),
			chromedp.SendKeys(chromedp.ID("f-last_name"), "Lee"),
			chromedp.SendKeys(chromedp.ID("f-email"), email),
			chromedp.Click(chromedp.ID("f-accept_privacy")),
		} {
			if _, err := step(ctx, tg); err != nil {
				return err
			}
		}
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[bool](
			`(function(){ document.querySelector("form[method=post] button[type=submit]").click(); return true })()`))(ctx, tg)
		return err
	})
}

// openReceipt follows the thank-you page's receipt link.
func openReceipt() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[bool](
			`(function(){ document.getElementById("receipt-link").click(); return true })()`))(ctx, tg)
		return err
	})
}

// A supporter writes, follows the receipt link from the thank-you page and
// sees their letter and each decision-maker's copy; the share buttons
// carry the ready-made message.
func TestSupporterFollowsTheirLetter(t *testing.T) {
	t.Parallel()
	a := newApp(t, withSender)
	ctx := tab(t)
	run(t, ctx, chromedp.Navigate(a.URL+"/"), writeLetter("ann.receipt@example.org"))
	if got := eval[string](t, ctx, `location.pathname`); got != "/c/netflix-baby/thanks" {
		t.Fatalf("after sending: %s", got)
	}
	wa := eval[string](t, ctx, `new URL(document.querySelector('a[href^="https://wa.me/"]').href).searchParams.get("text")`)
	if !strings.HasPrefix(wa, "I just wrote to the decision-makers: “Netflix is normalizing") || !strings.HasSuffix(wa, a.URL+"/c/netflix-baby?source=share-whatsapp") {
		t.Errorf("WhatsApp text = %q", wa)
	}
	// The message shown carries the copied link's source code.
	if got := text(t, ctx, "#share-message"); got != strings.Replace(wa, "share-whatsapp", "share-link", 1) {
		t.Errorf("the message shown (%q) is not the one shared (%q)", got, wa)
	}
	run(t, ctx, openReceipt())
	if got := text(t, ctx, "h1"); got != "Your letter" {
		t.Fatalf("receipt heading %q", got)
	}
	rows := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("table.copies tbody tr")).map(r => r.cells[0].textContent)`)
	if strings.Join(rows, ", ") != "Ted Sarandos, Greg Peters, Bela Bajaria, Reed Hastings" {
		t.Errorf("copies for %v", rows)
	}
	if body := text(t, ctx, ".letter-body"); !strings.Contains(body, "stop production") {
		t.Errorf("letter shown: %q", body)
	}
	// The dry-run sender sends them; a reload shows it.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`fetch(location.href).then(r => r.text()).then(t => (t.match(/status-sent/g) || []).length === 4)`,
		chromedp.WithPollingTimeout(20e9))); err != nil {
		t.Fatalf("the receipt never showed the 4 copies sent: %v", err)
	}
	run(t, ctx, chromedp.Reload())
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("table.copies .status")).map(s => s.textContent)`); strings.Join(got, ",") != "Sent,Sent,Sent,Sent" {
		t.Errorf("statuses after sending: %v", got)
	}
}
