package browsertest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleCreatesACampaignAndALetterGoesThroughIt: an organizer creates a
// second campaign in the console, choosing two of the four targets; its page
// serves at once, a supporter sends a letter through it, and the letter is
// queued for exactly those two targets, in that campaign. Closing it from
// the console takes the form off its page.
func TestConsoleCreatesACampaignAndALetterGoesThroughIt(t *testing.T) {
	t.Parallel()
	a := newApp(t, withConsole)
	ct := newConsoleTab(t)
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/campaigns"))
	checkPage(t, ct, "campaigns")
	run(t, ct,
		chromedp.SetValue(chromedp.CSS("#c-slug"), "save-the-park"),
		chromedp.SetValue(chromedp.CSS("#c-title"), "Save the park"),
		chromedp.SetValue(chromedp.CSS("#c-story"), "The council wants to sell the park.\n\nTell them not to."),
		chromedp.SetValue(chromedp.CSS("#c-subject"), "Keep the park"),
		chromedp.SetValue(chromedp.CSS("#c-body"), "Please keep the park open for everyone."),
		chromedp.SetValue(chromedp.CSS("#c-goal"), "250"),
		chromedp.Click(chromedp.CSS("#c-t-ted-sarandos")),
		chromedp.Click(chromedp.CSS("#c-t-reed-hastings")),
	)
	clickAndLoad(t, ct, `form[action="/admin/campaigns"] button`)
	if p := path(t, ct); p != "/admin/campaigns/save-the-park?ok=created" {
		t.Fatalf("after creating, the browser is at %s", p)
	}
	checkPage(t, ct, "campaign")

	// The new campaign's page takes a letter.
	sup := tab(t)
	run(t, sup, chromedp.Navigate(a.URL+"/c/save-the-park"))
	if h := text(t, sup, "h1"); h != "Save the park" {
		t.Fatalf("the new campaign's page shows %q", h)
	}
	if got := text(t, sup, "#progress-text"); got != "0 of 250 letters" {
		t.Errorf("progress = %q", got)
	}
	run(t, sup,
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Ann"),
		chromedp.SendKeys(chromedp.ID("f-last_name"), "Lee"),
		chromedp.SendKeys(chromedp.ID("f-email"), "park.writer@example.org"),
		chromedp.Click(chromedp.ID("f-accept_privacy")),
	)
	clickAndLoad(t, sup, `form[action="/c/save-the-park"] button[type=submit]`)
	if p := path(t, sup); !strings.HasPrefix(p, "/c/save-the-park/thanks") {
		t.Fatalf("after sending, the supporter is at %s", p)
	}
	rows := a.campaignMessages(t)
	if len(rows) != 2 || rows[0].Target != "ted-sarandos" || rows[1].Target != "reed-hastings" ||
		rows[0].Campaign != "save-the-park" || rows[0].Subject != "Keep the park" {
		t.Fatalf("messages = %+v, want one for each chosen target, in the new campaign", rows)
	}

	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}

	// Closing it from the console takes the form off its page (new tabs:
	// each tab has a deadline for all it does).
	ct = newConsoleTab(t)
	login(t, ct, a, consolePassword)
	run(t, ct, chromedp.Navigate(a.URL+"/admin/campaigns/save-the-park"))
	clickAndLoad(t, ct, `button[value="closed"]`)
	sup = tab(t)
	run(t, sup, chromedp.Navigate(a.URL+"/c/save-the-park"))
	if n := eval[int](t, sup, `document.querySelectorAll('form[action="/c/save-the-park"]').length`); n != 0 {
		t.Error("the closed campaign's page still has the form")
	}
	if h := text(t, sup, "#ended-h"); h != "This campaign has ended" {
		t.Errorf("closed campaign heading %q", h)
	}
}
