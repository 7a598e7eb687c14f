package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/outcry/outcry/internal/similar"
)

// The uniqueness meter (issue 24): static/similar.js in Chromium and
// internal/similar on the server give the same similarity for the same
// texts, the meter under the letter follows the typing and is announced
// politely, and without JavaScript the thank-you page says it.

func agreeExamples(t *testing.T, campaignBody string) []agreeExample {
	t.Helper()
	b, err := os.ReadFile("../similar/testdata/agree.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex []agreeExample
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	words := strings.Fields(campaignBody)
	oneWord := strings.Replace(campaignBody, words[len(words)/2], "elephant", 1)
	for i := range ex {
		switch ex[i].Text {
		case "@CAMPAIGN":
			ex[i].Text = campaignBody
		case "@CAMPAIGN_UPPER":
			ex[i].Text = strings.ToUpper(strings.Join(words, "   "))
		case "@CAMPAIGN_ONE_WORD":
			ex[i].Text = oneWord
		case "@CAMPAIGN_PLUS":
			ex[i].Text = campaignBody + "\nMy daughter watches your service every day, and I will cancel it."
		}
	}
	return ex
}

func TestMeterAgreesWithServer(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := tab(t)
	run(t, ctx, chromedp.Navigate(a.URL+"/"))
	ref := a.Campaign.Letter.Body
	refJSON, _ := json.Marshal(ref)
	for _, ex := range agreeExamples(t, ref) {
		textJSON, _ := json.Marshal(ex.Text)
		js := eval[float64](t, ctx, fmt.Sprintf("outcrySimilarity(%s, %s)", refJSON, textJSON))
		goV := similar.Of(ref, ex.Text)
		if math.Abs(js-goV) > 1e-12 {
			t.Errorf("%s: page %.6f, server %.6f", ex.Name, js, goV)
		}
		switch ex.Name {
		case "campaign's own text", "campaign's text re-wrapped and shouted":
			if goV != 1 {
				t.Errorf("%s: %.3f, want 1", ex.Name, goV)
			}
		case "rewritten", "empty body":
			if goV > 0.1 {
				t.Errorf("%s: %.3f, want low", ex.Name, goV)
			}
		}
	}
	// Texts compared with each other, not only with the campaign's.
	ex := agreeExamples(t, ref)
	for i := 1; i < len(ex); i++ {
		aJSON, _ := json.Marshal(ex[i-1].Text)
		bJSON, _ := json.Marshal(ex[i].Text)
		js := eval[float64](t, ctx, fmt.Sprintf("outcrySimilarity(%s, %s)", aJSON, bJSON))
		if goV := similar.Of(ex[i-1].Text, ex[i].Text); math.Abs(js-goV) > 1e-12 {
			t.Errorf("%s vs %s: page %.6f, server %.6f", ex[i-1].Name, ex[i].Name, js, goV)
		}
	}
}

// waitText waits until the element's text satisfies ok (the meter waits a
// quarter second after the last key).
func waitText(t *testing.T, ctx interface{ Done() <-chan struct{} }, get func() string, ok func(string) bool) string {
	t.Helper()
	var got string
	for range 100 {
		if got = get(); ok(got) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

func TestMeterUpdatesWhileTypingAndIsAnnounced(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := tab(t)
	run(t, ctx, chromedp.Navigate(a.URL+"/"))
	meter := func() string { return eval[string](t, ctx, `document.getElementById("f-body-meter").textContent`) }
	// The live region is there, polite, before anything changes in it.
	if got := eval[string](t, ctx, `document.getElementById("f-body-meter").getAttribute("aria-live")`); got != "polite" {
		t.Fatalf("meter aria-live = %q, want polite", got)
	}
	const mostly = "Mostly the campaign's words. Letters in your own words are more likely to be read."
	if got := meter(); got != mostly {
		t.Fatalf("meter on the campaign's letter = %q, want %q", got, mostly)
	}
	// Typing their own words, the line changes.
	run(t, ctx, clearField("f-body"),
		chromedp.SendKeys(chromedp.ID("f-body"), "I am a parent of two and I was shocked by this series. Please take it down."))
	const own = "In your own words — thank you."
	if got := waitText(t, ctx, meter, func(s string) bool { return s == own }); got != own {
		t.Fatalf("meter after typing own words = %q, want %q", got, own)
	}
	// The line is announced: it is in the accessibility tree as a polite
	// live region (status), named by its text.
	if got := eval[string](t, ctx, `(function(){var m=document.getElementById("f-body-meter"); return m.getAttribute("aria-live")+"|"+(m.offsetParent!==null)+"|"+m.getAttribute("data-level")})()`); got != "polite|true|own" {
		t.Fatalf("meter state = %q", got)
	}
	// The meter never stops the letter: it is sent as it is.
	run(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Ann"),
		chromedp.SendKeys(chromedp.ID("f-last_name"), "Lee"),
		chromedp.SendKeys(chromedp.ID("f-email"), "ann@example.org"),
		chromedp.Click(chromedp.ID("f-accept_privacy")))
	clickAndLoad(t, ctx, "form button[type=submit]")
	if got := text(t, ctx, "#meter-after"); !strings.Contains(got, "in your own words") {
		t.Errorf("thank-you page says %q", got)
	}
	checkA11y(t, ctx, "thank-you page with the meter")
}

func TestMeterWithoutJavaScriptIsOnTheThankYouPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := tab(t)
	noScript(t, ctx)
	run(t, ctx,
		chromedp.Navigate(a.URL+"/"),
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Bo"),
		chromedp.SendKeys(chromedp.ID("f-last_name"), "Nu"),
		chromedp.SendKeys(chromedp.ID("f-email"), "bo@example.org"),
		chromedp.Click(chromedp.ID("f-accept_privacy")))
	if eval[bool](t, ctx, `!!document.getElementById("f-body-meter")`) {
		t.Fatal("a meter without JavaScript")
	}
	clickAndLoad(t, ctx, "form button[type=submit]")
	if got := eval[string](t, ctx, `location.pathname`); got != "/c/netflix-baby/thanks" {
		t.Fatalf("after sending: %s, want the thank-you page", got)
	}
	if got := text(t, ctx, "#meter-after"); !strings.Contains(got, "mostly the campaign's words") {
		t.Errorf("thank-you page without JavaScript says %q, want the campaign's words", got)
	}
	if n := len(a.messages(t)); n != 4 {
		t.Fatalf("%d messages, want 4: the letter was sent", n)
	}
}

// agreeExample is one text of internal/similar/testdata/agree.json.
type agreeExample struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// A target's reading page in the browser: their letters, the search, and
// no accessibility problem.
func TestReadingPageInTheBrowser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := tab(t)
	sign(t, a, "ann@example.org")
	sign(t, a, "bob@example.org")
	a.exec(t, `UPDATE messages SET status = 'sent', sent_at = queued_at`)
	u, err := a.Reading.URL(context.Background(), "netflix-baby", "ted-sarandos")
	if err != nil || u == "" {
		t.Fatalf("link: %q %v", u, err)
	}
	run(t, ctx, chromedp.Navigate(u))
	if n := eval[int](t, ctx, `document.querySelectorAll("article.letter").length`); n != 2 {
		t.Fatalf("%d letters on the page, want 2", n)
	}
	if eval[bool](t, ctx, `document.body.textContent.includes("@example.org")`) {
		t.Fatal("an email address on the reading page")
	}
	checkA11y(t, ctx, "reading page")
	run(t, ctx, chromedp.SendKeys(chromedp.ID("reading-q"), "nothing-like-this"))
	clickAndLoad(t, ctx, ".reading-search button")
	if n := eval[int](t, ctx, `document.querySelectorAll("article.letter").length`); n != 0 {
		t.Fatalf("%d letters found for a word in none", n)
	}
}
