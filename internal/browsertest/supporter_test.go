package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestSupporterEditsTheLetterAndSends(t *testing.T) {
	t.Parallel()
	withAndWithoutJS(t, func(t *testing.T, ctx context.Context, js bool) {
		a := newApp(t)
		run(t, ctx, chromedp.Navigate(a.URL+"/"))
		if got := text(t, ctx, "#progress-text"); got != "0 of 10,000 letters" {
			t.Errorf("progress = %q", got)
		}
		hasCount := eval[bool](t, ctx, `!!document.getElementById("f-body-count")`)
		if hasCount != js {
			t.Fatalf("character count present = %v with JavaScript %v", hasCount, js)
		}
		const edited = "I am a parent and I ask you to stop this series now."
		run(t, ctx,
			chromedp.SendKeys(chromedp.ID("f-first_name"), "Ann"),
			chromedp.SendKeys(chromedp.ID("f-last_name"), "Lee"),
			chromedp.SendKeys(chromedp.ID("f-email"), "Ann.Lee@Example.org"),
			clearField("f-subject"),
			chromedp.SendKeys(chromedp.ID("f-subject"), "Please stop Baby"),
			clearField("f-body"),
			chromedp.SendKeys(chromedp.ID("f-body"), edited),
			chromedp.Click(chromedp.ID("f-accept_privacy")),
		)
		if js {
			want := "52 of 5,000 characters"
			if got := text(t, ctx, "#f-body-count"); got != want {
				t.Errorf("character count = %q, want %q", got, want)
			}
		}
		clickAndLoad(t, ctx, "form button[type=submit]")
		if got := eval[string](t, ctx, `location.pathname`); got != "/c/netflix-baby/thanks" {
			t.Fatalf("after sending: %s, want the thank-you page", got)
		}
		if got := text(t, ctx, "#progress-text"); got != "1 of 10,000 letters" {
			t.Errorf("thank-you progress = %q", got)
		}
		msgs := a.messages(t)
		if len(msgs) != 4 {
			t.Fatalf("%d messages in the send log, want one per active target (4)", len(msgs))
		}
		for _, m := range msgs {
			if m.Status != "queued" || m.Subject != "Please stop Baby" || !strings.Contains(m.Body, edited) || m.Signer != "Ann Lee" {
				t.Errorf("message %+v: want queued with the edited subject and text, signed Ann Lee", m)
			}
		}
		// Back on the campaign page the count went up too.
		run(t, ctx, chromedp.Navigate(a.URL+"/c/netflix-baby"))
		if got := text(t, ctx, "#count"); got != "1" {
			t.Errorf("campaign count = %q, want 1", got)
		}
	})
}

func TestBadEmailShowsTheErrorAndKeepsTheInput(t *testing.T) {
	t.Parallel()
	withAndWithoutJS(t, func(t *testing.T, ctx context.Context, js bool) {
		a := newApp(t)
		const edited = "My own words to Netflix."
		run(t, ctx,
			chromedp.Navigate(a.URL+"/"),
			chromedp.SendKeys(chromedp.ID("f-first_name"), "Zoë"),
			chromedp.SendKeys(chromedp.ID("f-last_name"), "Ng"),
			chromedp.SendKeys(chromedp.ID("f-email"), "zoe@@example"),
			chromedp.SendKeys(chromedp.ID("f-postcode"), "10115"),
			clearField("f-body"),
			chromedp.SendKeys(chromedp.ID("f-body"), edited),
			chromedp.Click(chromedp.ID("f-accept_privacy")),
			chromedp.Click(chromedp.ID("f-consent")),
		)
		clickAndLoad(t, ctx, "form button[type=submit]")
		if got := text(t, ctx, "#f-email-error"); got != "Please enter a valid email address, like name@example.org." {
			t.Errorf("email error = %q", got)
		}
		// The error sits next to its field and is linked to it.
		if !eval[bool](t, ctx, `(function(){
			var f = document.getElementById("f-email"), e = document.getElementById("f-email-error");
			return f.closest(".field") === e.closest(".field") &&
				f.getAttribute("aria-invalid") === "true" &&
				f.getAttribute("aria-describedby").split(" ").indexOf("f-email-error") >= 0;
		})()`) {
			t.Error("the email error is not in the field's box, or not linked with aria-invalid and aria-describedby")
		}
		if got := eval[string](t, ctx, `document.querySelector("[role=alert]").textContent.trim()`); got != "Please correct the field marked below." {
			t.Errorf("alert summary = %q", got)
		}
		kept := map[string]string{"f-first_name": "Zoë", "f-last_name": "Ng", "f-email": "zoe@@example", "f-postcode": "10115", "f-body": edited}
		for id, want := range kept {
			v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
			if err != nil || v != want {
				t.Errorf("%s = %q (%v), want %q kept", id, v, err, want)
			}
		}
		if !eval[bool](t, ctx, `document.getElementById("f-consent").checked && document.getElementById("f-accept_privacy").checked`) {
			t.Error("the ticked boxes were not kept")
		}
		if js {
			if got := eval[string](t, ctx, `document.activeElement.id`); got != "f-email" {
				t.Errorf("focus is on %q, want the bad field f-email", got)
			}
		}
		if n := len(a.messages(t)); n != 0 {
			t.Fatalf("%d messages stored for an invalid form", n)
		}
	})
}

func TestCopyLink(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "with JavaScript", false: "without JavaScript"}[js], func(t *testing.T) {
			a := newApp(t)
			ctx := tab(t)
			if !js {
				noScript(t, ctx)
			}
			run(t, ctx, chromedp.Navigate(a.URL+"/"))
			if got := eval[string](t, ctx, `document.getElementById("share-url").value`); got != a.URL+"/c/netflix-baby?source=share-link" { // counted as a share (docs/source-codes.md)
				t.Errorf("link field = %q", got)
			}
			if !eval[bool](t, ctx, `document.getElementById("share-url").readOnly`) {
				t.Error("link field is not read-only")
			}
			hasButton := eval[bool](t, ctx, `!!document.getElementById("share-copy")`)
			if hasButton != js {
				t.Fatalf("copy button present = %v with JavaScript %v", hasButton, js)
			}
			if !js {
				return
			}
			run(t, ctx, chromedp.Click(chromedp.ID("share-copy")))
			got, err := chromedp.Run(ctx, chromedp.Poll[string](`document.querySelector(".copied").textContent || null`))
			if err != nil || got != "Link copied" {
				t.Errorf("after the click the status says %q (%v), want \"Link copied\"", got, err)
			}
		})
	}
}

func TestShareLinksAndPreviewTags(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := tab(t)
	for _, path := range []string{"/", "/c/netflix-baby/thanks"} {
		run(t, ctx, chromedp.Navigate(a.URL+path))
		hrefs := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".share a")).map(a => a.href)`)
		prefixes := []string{"mailto:?subject=", "https://wa.me/?text=", "https://x.com/intent/post?text=", "https://www.facebook.com/sharer/sharer.php?u="}
		if len(hrefs) != len(prefixes) {
			t.Fatalf("%s: share links %q", path, hrefs)
		}
		for i, p := range prefixes {
			if !strings.HasPrefix(hrefs[i], p) || !strings.Contains(hrefs[i], "netflix-baby") {
				t.Errorf("%s: share link %q, want %s… with the campaign URL", path, hrefs[i], p)
			}
		}
		for _, prop := range []string{`meta[property="og:title"]`, `meta[property="og:description"]`, `meta[property="og:image"]`, `meta[name="twitter:card"]`, `meta[name="twitter:image"]`} {
			if got := eval[string](t, ctx, `(document.querySelector('`+prop+`')||{}).content||""`); got == "" {
				t.Errorf("%s: %s missing or empty", path, prop)
			}
		}
	}
}

// clearField empties a form field, as a supporter selecting all and deleting would.
func clearField(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(function(){ var e = document.getElementById("`+id+`"); e.value = ""; return true })()`)(ctx, tg)
		return err
	})
}
