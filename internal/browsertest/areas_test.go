package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A supporter of a write-to-your-representative campaign types a ZIP code
// that lies in two districts, picks theirs, sees who the letter goes to,
// sends it, and the receipt lists that representative and nobody else:
// with JavaScript (live look-up) and without (two steps served by the
// server).
func TestSupporterWritesToTheirOwnRepresentative(t *testing.T) {
	t.Parallel()
	withAndWithoutJS(t, func(t *testing.T, ctx context.Context, js bool) {
		a := newApp(t, withCongress)
		run(t, ctx, chromedp.Navigate(a.URL+"/c/fund-libraries"))
		if eval[bool](t, ctx, `document.getElementById("letter-form").offsetParent !== null`) {
			t.Fatal("the letter form shows before the postcode is known")
		}
		if got := eval[string](t, ctx, `document.getElementById("recipients").getAttribute("aria-live")`); got != "polite" {
			t.Errorf("recipients aria-live = %q", got)
		}
		run(t, ctx, chromedp.SendKeys(chromedp.ID("f-lookup-postcode"), "94112-2301"))
		if js {
			run(t, ctx, chromedp.WaitVisible(chromedp.ID("f-area-CA-15")))
		} else {
			clickAndLoad(t, ctx, "#lookup-submit")
		}
		// The split postcode's areas, each a labelled choice.
		if got := eval[string](t, ctx, `Array.from(document.querySelectorAll("#area-choice input[type=radio]")).map(function(r){
			return r.value + "=" + document.querySelector("label[for='" + r.id + "']").textContent }).join("|")`); got != "CA-11=CA district 11|CA-15=CA district 15" {
			t.Errorf("area choices = %q", got)
		}
		if eval[bool](t, ctx, `document.getElementById("letter-form").offsetParent !== null`) {
			t.Fatal("the letter form shows before the area is chosen")
		}
		run(t, ctx, chromedp.Click(chromedp.ID("f-area-CA-15")))
		if js {
			run(t, ctx, chromedp.WaitVisible(chromedp.ID("letter-form")))
		} else {
			clickAndLoad(t, ctx, "#lookup-submit")
		}
		const want = "Your letter will go to: Representative CA-15, Member of Congress for CA-15 (CA district 15)."
		if got := strings.TrimSpace(text(t, ctx, "#recipients-text")); got != want {
			t.Errorf("recipients = %q, want %q", got, want)
		}
		if got := text(t, ctx, "#recipients-greeting"); got != "Your letter will begin “Dear Representative,”." {
			t.Errorf("greeting = %q", got)
		}
		run(t, ctx,
			chromedp.SendKeys(chromedp.ID("f-first_name"), "Rosa"),
			chromedp.SendKeys(chromedp.ID("f-last_name"), "Parks"),
			chromedp.SendKeys(chromedp.ID("f-email"), "rosa@example.org"),
			chromedp.Click(chromedp.ID("f-accept_privacy")),
		)
		clickAndLoad(t, ctx, "#letter-form button[type=submit]")
		if got := eval[string](t, ctx, `location.pathname`); got != "/c/fund-libraries/thanks" {
			t.Fatalf("after sending: %s (%s)", got, eval[string](t, ctx, `document.body.innerText.slice(0, 400)`))
		}
		run(t, ctx, openReceipt())
		rows := eval[string](t, ctx, `Array.from(document.querySelectorAll("table th[scope=row]")).map(function(th){ return th.textContent.trim() }).join("|")`)
		if rows != "Representative CA-15" {
			t.Errorf("receipt lists %q, want only Representative CA-15", rows)
		}
		msgs := a.campaignMessages(t)
		if len(msgs) != 1 || msgs[0].Target != "rep-ca-15" {
			t.Errorf("send log %+v, want one message to rep-ca-15", msgs)
		}
	})
}

// The meter measures against the letter the supporter's targets receive:
// the postcode 94103 writes to a representative with stance: supporter,
// who gets the campaign's thank-you version. Sent unchanged it is "mostly
// the campaign's words" on the page and after it, with and without
// JavaScript, as the server measures it.
func TestMeterFollowsTheLettersVersion(t *testing.T) {
	t.Parallel()
	withAndWithoutJS(t, func(t *testing.T, ctx context.Context, js bool) {
		a := newApp(t, withCongress)
		run(t, ctx, chromedp.Navigate(a.URL+"/c/fund-libraries"))
		run(t, ctx, chromedp.SendKeys(chromedp.ID("f-lookup-postcode"), "94103"))
		if js {
			run(t, ctx, chromedp.WaitVisible(chromedp.ID("letter-form")))
		} else {
			clickAndLoad(t, ctx, "#lookup-submit")
		}
		// Under load the page may first show the answer for a postcode
		// typed in part (the fallback's letter): wait for the whole one's.
		ref := waitText(t, ctx, func() string {
			return eval[string](t, ctx, `document.getElementById("f-body").getAttribute("data-reference")`)
		}, func(s string) bool { return strings.Contains(s, "thank you for supporting") })
		body := eval[string](t, ctx, `document.getElementById("f-body").value`)
		if !strings.Contains(ref, "thank you for supporting") || strings.TrimSpace(ref) != strings.TrimSpace(body) {
			t.Fatalf("the meter's reference %q, want the thank-you version shown in the letter (%q)", ref, body)
		}
		if js {
			meter := func() string {
				return eval[string](t, ctx, `document.getElementById("f-body-meter").getAttribute("data-level") || ""`)
			}
			if got := waitText(t, ctx, meter, func(s string) bool { return s == "mostly" }); got != "mostly" {
				t.Errorf("meter on the version unchanged = %q, want mostly", got)
			}
		}
		run(t, ctx,
			chromedp.SendKeys(chromedp.ID("f-first_name"), "Rosa"),
			chromedp.SendKeys(chromedp.ID("f-last_name"), "Parks"),
			chromedp.SendKeys(chromedp.ID("f-email"), "rosa@example.org"),
			chromedp.Click(chromedp.ID("f-accept_privacy")),
		)
		clickAndLoad(t, ctx, "#letter-form button[type=submit]")
		if got := text(t, ctx, "#meter-after"); !strings.Contains(strings.ToLower(got), "campaign's words") {
			t.Errorf("thank-you page says %q, want the campaign's words (the version was sent unchanged)", got)
		}
	})
}
