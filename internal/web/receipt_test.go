package web

import (
	"context"
	"fmt"
	"github.com/outcry/outcry/internal/testkit"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/receipt"
)

// withReceiptMail lets the receipt page email copies through box.
func withReceiptMail(box *testkit.Mailbox) func(*Deps) {
	return func(d *Deps) {
		d.Receipts = &receipt.Service{Store: d.Store, BaseURL: d.BaseURL, Mailer: box, Templates: os.DirFS("../../templates"),
			Title: d.Campaigns.Title, FromName: d.Organizer.Name, ReplyTo: "privacy@example.com"}
	}
}

var receiptHref = regexp.MustCompile(`id="receipt-link" href="http://outcry.test(/c/netflix-baby/receipt/[^"]+)"`)

// write sends the form and returns the thank-you page and the receipt path
// it links to ("" when none).
func (a *testApp) write(t *testing.T, email, body string) (thanks, receiptPath string) {
	t.Helper()
	f := goodForm()
	f.Set("email", email)
	f.Set("body", body)
	status, h, _ := a.submit(t, f)
	if status != http.StatusSeeOther {
		t.Fatalf("submit: %d", status)
	}
	status, h2, page := a.do(t, "GET", h.Get("Location"), "", "")
	if status != 200 {
		t.Fatalf("thank-you page: %d", status)
	}
	if m := receiptHref.FindStringSubmatch(page); m != nil {
		if h2.Get("Cache-Control") != "no-store" || h2.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("a page with a receipt link is cacheable or leaks it: %v", h2)
		}
		return page, m[1]
	}
	return page, ""
}

// The thank-you page gives the writer a private, signed link to a page with
// their letter and, per decision-maker, what became of it.
func TestReceiptLinkShowsTheLetterAndEachCopy(t *testing.T) {
	a := newTestApp(t)
	thanks, path := a.write(t, "ann@example.org", "My own words about Baby.")
	if path == "" {
		t.Fatalf("the thank-you page has no receipt link:\n%s", thanks)
	}
	if !strings.Contains(thanks, `id="share-message"`) || !strings.Contains(thanks, "Will you write too?") {
		t.Error("the thank-you page has no ready-to-share message")
	}
	status, h, page := a.do(t, "GET", path, "", "")
	if status != 200 || h.Get("Cache-Control") != "no-store" || h.Get("X-Robots-Tag") == "" || !strings.Contains(page, `<meta name="robots" content="noindex, nofollow">`) {
		t.Fatalf("receipt: %d %v", status, h)
	}
	for _, want := range []string{"My own words about Baby.", "Stop Baby",
		"<th scope=\"row\">Ted Sarandos</th>", "<th scope=\"row\">Reed Hastings</th>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the receipt lacks %q", want)
		}
	}
	if n := strings.Count(page, `<span class="status status-queued">Waiting to be sent</span>`); n != 4 {
		t.Errorf("%d copies waiting to be sent, want 4", n)
	}
	if strings.Contains(page, "Email me a copy") {
		t.Error("offers an email copy without a mailer")
	}
	// A link for someone else, or tampered with, shows nothing.
	tok := path[strings.LastIndex(path, "/")+1:]
	for _, bad := range []string{"2" + tok[1:], tok[:len(tok)-2] + "AA", "1", "", strings.Repeat("1", 300)} {
		if status, _, body := a.do(t, "GET", "/c/netflix-baby/receipt/"+bad, "", ""); status != http.StatusNotFound || strings.Contains(body, "My own words") {
			t.Errorf("receipt %q: %d", bad, status)
		}
		if status, _, _ := a.do(t, "GET", "/c/netflix-baby/thanks?r="+bad, "", ""); status != 200 {
			t.Errorf("thanks with a bad token: %d", status)
		}
	}
	// Another campaign's address does not open it either.
	if status, _, _ := a.do(t, "GET", "/c/other/receipt/"+tok, "", ""); status != http.StatusNotFound {
		t.Errorf("receipt under another campaign: %d", status)
	}
	// After erasure the link shows that the letter is gone, not the letter.
	if _, err := a.store.EraseSupporter(context.Background(), "ann@example.org", ""); err != nil {
		t.Fatal(err)
	}
	if status, _, body := a.do(t, "GET", path, "", ""); status != http.StatusGone || strings.Contains(body, "My own words") {
		t.Errorf("receipt after erasure: %d", status)
	}
}

// A repeat from an address that has written is not given the first
// letter's receipt: it would show that letter to whoever typed the address.
func TestRepeatGetsNoReceipt(t *testing.T) {
	a := newTestApp(t)
	if _, path := a.write(t, "ann@example.org", "First letter."); path == "" {
		t.Fatal("no receipt for the first letter")
	}
	thanks, path := a.write(t, "ANN@example.org", "Someone else typing Ann's address.")
	if path != "" || strings.Contains(thanks, "receipt") {
		t.Fatalf("a repeat got a receipt link %q", path)
	}
	if !strings.Contains(thanks, "Thank you") {
		t.Fatal("a repeat is not thanked like a first letter")
	}
}

// writeInBrowser writes a letter as a browser does and returns the receipt
// path and the cookies the browser then holds (the form's, the writer's mark).
func (a *testApp) writeInBrowser(t *testing.T, email, body string) (string, []*http.Cookie) {
	t.Helper()
	f := goodForm()
	f.Set("email", email)
	f.Set("body", body)
	cookie, tok := a.csrf(t)
	f.Set("csrf", tok)
	f.Set("ts", a.srv.stamp(time.Now().Add(-time.Minute)))
	status, h, _ := a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", f.Encode(), func(r *http.Request) { r.AddCookie(cookie) })
	if status != http.StatusSeeOther {
		t.Fatalf("submit: %d", status)
	}
	_, _, page := a.do(t, "GET", h.Get("Location"), "", "")
	m := receiptHref.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no receipt link")
	}
	return m[1], append((&http.Response{Header: h}).Cookies(), cookie)
}

func withCookies(cs []*http.Cookie) func(*http.Request) {
	return func(r *http.Request) {
		for _, c := range cs {
			r.AddCookie(c)
		}
	}
}

// "Email me a copy" sends the letter and the link to the writer's own
// address, from templates/receipt.txt: once, from the browser that wrote it.
func TestReceiptEmailCopy(t *testing.T) {
	box := &testkit.Mailbox{}
	a := newTestApp(t, withReceiptMail(box))
	a.write(t, "bob@example.org", "Bob's letter, not Ann's.")
	path, cookies := a.writeInBrowser(t, "ann@example.org", "Ann's own letter.")
	_, _, thanks := a.doWith(t, "GET", "/c/netflix-baby/thanks?r="+strings.TrimPrefix(path, "/c/netflix-baby/receipt/"), "", "", nil)
	if !strings.Contains(thanks, `action="`+path+`/email"`) {
		t.Fatal("the thank-you page does not offer to email a copy")
	}
	status, h, _ := a.doWith(t, "POST", path+"/email", "", "", withCookies(cookies))
	if status != http.StatusSeeOther || h.Get("Location") != path+"?emailed=1" {
		t.Fatalf("email a copy: %d %s", status, h.Get("Location"))
	}
	if len(box.Sent()) != 1 {
		t.Fatalf("%d emails, want 1", len(box.Sent()))
	}
	m := box.Sent()[0]
	if m.TargetEmail != "ann@example.org" || m.Subject != "Your letter: Netflix is normalizing sexual exploitation of minors" ||
		!strings.Contains(m.Body, "http://outcry.test"+path) || !strings.Contains(m.Body, "Ann's own letter.") ||
		!strings.Contains(m.Body, "- Ted Sarandos: Waiting to be sent") || !strings.HasPrefix(m.Body, "Hello Ann,") {
		t.Fatalf("the copy: to %s, subject %q:\n%s", m.TargetEmail, m.Subject, m.Body)
	}
	if testing.Verbose() {
		t.Logf("the copy:\n%s", m.Body)
	}
	if strings.Contains(m.Body, "bob@example.org") || strings.Contains(m.Body, "Bob's letter") {
		t.Fatal("the copy carries another supporter's data")
	}
	_, _, page := a.do(t, "GET", path+"?emailed=1", "", "")
	if !strings.Contains(page, "We have emailed you a copy") {
		t.Error("no confirmation on the receipt page")
	}
	// Again: an address nobody confirmed has had its one copy; the page says why.
	if status, h, _ := a.doWith(t, "POST", path+"/email", "", "", withCookies(cookies)); status != http.StatusSeeOther || h.Get("Location") != path+"?emailed=unproven" || len(box.Sent()) != 1 {
		t.Fatalf("second copy: %d %s, %d emails", status, h.Get("Location"), len(box.Sent()))
	}
	if _, _, page := a.do(t, "GET", path+"?emailed=unproven", "", ""); !strings.Contains(page, "after you confirm your address") {
		t.Error("the receipt page does not say why no copy was sent")
	}
	if status, _, _ := a.do(t, "POST", "/c/netflix-baby/receipt/1.forged/email", "", ""); status != http.StatusNotFound || len(box.Sent()) != 1 {
		t.Fatalf("a forged link emails: %d", status)
	}
}

// Issue 27 item 2, the probe's copy bomb: letters written with victims'
// addresses, then "Email me a copy" on each receipt link by a script. No
// victim gets the attacker's text: the script is not the writer's browser
// with its form cookie (or its mark is from another letter, or old).
func TestReceiptCopyBombSendsNothing(t *testing.T) {
	box := &testkit.Mailbox{}
	var now time.Time
	a := newTestApp(t, withReceiptMail(box), func(d *Deps) { d.Security.Now = func() time.Time { return now } })
	now = time.Now()
	spam := "Hello Win a prize at http://spam.example " + strings.Repeat("http://spam.example/x ", 200)
	var paths []string
	var marks [][]*http.Cookie
	for i := 0; i < 12; i++ {
		p, c := a.writeInBrowser(t, fmt.Sprintf("victim%d@example.org", i), spam)
		paths, marks = append(paths, p), append(marks, c)
	}
	for i, p := range paths {
		// No cookies: the receipt link alone.
		a.doWith(t, "POST", p+"/email", "", "", nil)
		// The form cookie of another letter and its mark.
		a.doWith(t, "POST", p+"/email", "", "", withCookies(marks[(i+1)%len(marks)]))
		// Only the form cookie, without the mark.
		a.doWith(t, "POST", p+"/email", "", "", withCookies(marks[i][len(marks[i])-1:]))
	}
	// The writer's own browser, but 15 minutes later.
	now = now.Add(16 * time.Minute)
	a.doWith(t, "POST", paths[0]+"/email", "", "", withCookies(marks[0]))
	if sent := box.Sent(); len(sent) != 0 {
		t.Fatalf("%d copies went to addresses nobody proved, first to %s", len(sent), sent[0].TargetEmail)
	}
}

// Outside the campaign's sending hours the receipt says when the waiting
// copies will go; inside them it says nothing of it.
func TestReceiptSaysWhenTheSendingWindowOpens(t *testing.T) {
	a := newTestApp(t)
	_, path := a.write(t, "win@example.org", "My letter.")
	if path == "" {
		t.Fatal("no receipt link")
	}
	if _, _, page := a.do(t, "GET", path, "", ""); strings.Contains(page, `id="receipt-window"`) {
		t.Fatal("a campaign that sends at any time shows a sending window")
	}
	tomorrow := time.Now().UTC().Add(48 * time.Hour) // the day after: closed now even across midnight
	days := []string{strings.ToLower(tomorrow.Weekday().String()[:3])}
	if _, err := a.srv.d.Campaigns.Update(context.Background(), "netflix-baby", campaign.Input{SendingDays: &days}); err != nil {
		t.Fatal(err)
	}
	_, _, page := a.do(t, "GET", path, "", "")
	want := "the next sending window opens " + tomorrow.Weekday().String() + " 00:00 UTC."
	if !strings.Contains(page, want) {
		t.Fatalf("the receipt does not say %q", want)
	}
}

// Asked again right after a copy went, the receipt says when it went and
// when another can, from the time recorded (issue 26: it said "a few
// minutes ago" seconds after the click).
func TestReceiptTooSoonSaysWhen(t *testing.T) {
	box := &testkit.Mailbox{}
	a := newTestApp(t, withReceiptMail(box))
	path, cookies := a.writeInBrowser(t, "ann@example.org", "Ann's own letter.")
	if status, h, _ := a.doWith(t, "POST", path+"/email", "", "", withCookies(cookies)); status != http.StatusSeeOther || h.Get("Location") != path+"?emailed=1" {
		t.Fatalf("email a copy: %d %s", status, h.Get("Location"))
	}
	_, _, page := a.do(t, "GET", path+"?emailed=soon", "", "")
	if !strings.Contains(page, "A copy was emailed to you less than a minute ago.") || !strings.Contains(page, "another can be sent in 10 minutes") {
		t.Errorf("the receipt page says:\n%s", noticeOf(page))
	}
	if strings.Contains(page, "a few minutes ago") {
		t.Error(`"a few minutes ago" seconds after the copy went`)
	}
	// Minutes later (the same words from the recorded time).
	sent := time.Now().Add(-3 * time.Minute)
	if got := a.srv.tooSoon(&sent, time.Now()); !strings.Contains(got, "emailed to you 3 minutes ago") || !strings.Contains(got, "in 7 minutes") {
		t.Errorf("3 minutes later: %q", got)
	}
	sent = time.Now().Add(-9*time.Minute - 30*time.Second)
	if got := a.srv.tooSoon(&sent, time.Now()); !strings.Contains(got, "9 minutes ago") || !strings.Contains(got, "in 1 minute.") {
		t.Errorf("9½ minutes later: %q", got)
	}
}

func noticeOf(page string) string {
	if i := strings.Index(page, `id="receipt-notice"`); i >= 0 {
		return page[i:min(len(page), i+400)]
	}
	return "(no notice)"
}
