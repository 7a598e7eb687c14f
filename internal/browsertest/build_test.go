package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/outcry/outcry"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/sendlog"
	"github.com/outcry/outcry/internal/store"
)

// TestConsoleBuildsACampaignFromStartToEnd is issue 26's walk through the
// console, in Chromium, on the campaign the campaign file seeds (the only
// one a file can change; making a campaign in the console is
// TestConsoleCreatesACampaignAndALetterGoesThroughIt):
//  1. an image is uploaded, after a text file named .png is refused with
//     a clear message;
//  2. the organizer is set;
//  3. the letter is edited, and a title changed in the file afterwards is
//     still applied at the next start, the console's letter staying;
//  4. the digest a target would receive is previewed, from the real
//     queue, and nothing is sent meanwhile;
//  5. the campaign is opened and the letter is sent (Ted Sarandos's copy
//     in a digest, whose page shows the one email and the letter inside);
//  6. the campaign is closed and its page shows no form.
//
// The previews page passes axe-core with 0 violations.
func TestConsoleBuildsACampaignFromStartToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundled, err := outcry.Bundled("campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	targets, err := outcry.Bundled("targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cpath, tpath := filepath.Join(dir, "campaign.yaml"), filepath.Join(dir, "targets.yaml")
	for p, b := range map[string][]byte{cpath: bundled, tpath: targets} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := []appOption{withSender, withEnv("OUTCRY_DB", filepath.Join(dir, "outcry.db")), withEnv("OUTCRY_CAMPAIGN", cpath),
		withEnv("OUTCRY_TARGETS", tpath)}
	a := newApp(t, opts...)
	const slug = "netflix-baby"
	page := "/admin/campaigns/" + slug
	ct := newConsoleTab(t)
	login(t, ct, a, consolePassword)

	// Paused first: letters written meanwhile queue and nothing is sent.
	run(t, ct, chromedp.Navigate(a.URL+page))
	clickAndLoad(t, ct, `button[value="paused"]`)

	// 1. The image: a text file named .png is refused, a PNG is taken.
	fake := filepath.Join(dir, "holiday.png")
	if err := os.WriteFile(fake, []byte("this is a text file, not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ct, chromedp.SetUploadFiles(chromedp.CSS("#c-image"), []string{fake}))
	clickAndLoad(t, ct, `form[action="`+page+`/image"] button`)
	if msg := text(t, ct, "#c-image-err"); !strings.Contains(msg, "this file cannot be used") {
		t.Errorf("a text file named .png: the message is %q", msg)
	}
	if n := eval[int](t, ct, `document.querySelectorAll("img.thumb[src*='/image?v=']").length`); n != 0 {
		t.Fatal("the refused file became the image")
	}
	photo := filepath.Join(dir, "photo.png")
	writePNG(t, photo)
	run(t, ct, chromedp.SetUploadFiles(chromedp.CSS("#c-image"), []string{photo}),
		chromedp.SetValue(chromedp.CSS("#c-image-alt"), "A red square"))
	clickAndLoad(t, ct, `form[action="`+page+`/image"] button`)
	if p := path(t, ct); p != page+"?ok=cimage" {
		t.Fatalf("after uploading the image the browser is at %s", p)
	}
	if src := eval[string](t, ct, `document.querySelector("img.thumb").getAttribute("src")`); !strings.HasPrefix(src, "/c/"+slug+"/image?v=") {
		t.Errorf("the campaign's image is %q", src)
	}

	// 2. The organizer.
	run(t, ct, chromedp.SetValue(chromedp.CSS("#c-org-name"), "Friends of Fair Screens"))
	clickAndLoad(t, ct, `form[action="`+page+`"] button[value="save"]`)
	if p := path(t, ct); p != page+"?ok=csaved" {
		t.Fatalf("after saving the organizer the browser is at %s: %s", p, text(t, ct, "main"))
	}
	// The form sends every field back; only what changed is the console's.
	if w := text(t, ct, "#console-parts"); w != "the image and the organizer" {
		t.Errorf("after setting the organizer, the console's parts are %q", w)
	}

	// 3. The letter, edited in the console.
	run(t, ct, chromedp.Navigate(a.URL+"/admin/letter"),
		chromedp.SetValue(chromedp.CSS("#subject"), "A subject from the console"),
		chromedp.SetValue(chromedp.CSS("#body"), "Please stop the production. This letter was written in the console."))
	clickAndLoad(t, ct, `button[value="save"]`)
	if p := path(t, ct); p != "/admin/letter?ok=letter" {
		t.Fatalf("after saving the letter the browser is at %s", p)
	}
	// A supporter writes the console's letter; it queues (paused).
	sup := tab(t)
	run(t, sup, chromedp.Navigate(a.URL+"/c/"+slug),
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Ann"),
		chromedp.SendKeys(chromedp.ID("f-last_name"), "Lee"),
		chromedp.SendKeys(chromedp.ID("f-email"), "ann.lee@example.org"),
		chromedp.Click(chromedp.ID("f-accept_privacy")))
	clickAndLoad(t, sup, `form[action="/c/`+slug+`"] button[type=submit]`)
	if q := countStatus(t, a, "queued"); q != 4 {
		t.Fatalf("%d letters queued, want one for each of the 4 targets", q)
	}

	// The file changes its title; the next start applies it and keeps
	// the console's letter.
	changed := strings.Replace(string(bundled), "\ntitle: Netflix is normalizing sexual exploitation of minors\n",
		"\ntitle: A title changed in the file\n", 1)
	if changed == string(bundled) {
		t.Fatal("the bundled campaign's title line is not where the test looks")
	}
	if err := os.WriteFile(cpath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	a.stop()
	a = newApp(t, opts...)
	ct = newConsoleTab(t)
	login(t, ct, a, consolePassword)
	sup = tab(t)
	run(t, sup, chromedp.Navigate(a.URL+"/c/"+slug))
	if h := text(t, sup, "h1"); h != "A title changed in the file" {
		t.Errorf("after the letter was edited in the console, the file's new title is not applied: the page says %q", h)
	}
	if s := eval[string](t, sup, `document.querySelector('form[action="/c/`+slug+`"] [name=subject]').value`); s != "A subject from the console" {
		t.Errorf("the file replaced the console's letter: subject %q", s)
	}
	run(t, ct, chromedp.Navigate(a.URL+page))
	if w := text(t, ct, "#console-parts"); !strings.Contains(w, "the letter") || !strings.Contains(w, "the image") || !strings.Contains(w, "the organizer") {
		t.Errorf("the campaign page names %q as the console's", w)
	}

	// 4. The digest Ted Sarandos would receive now, from the queue.
	run(t, ct, chromedp.Navigate(a.URL+"/admin/preview?target=ted-sarandos"))
	checkPage(t, ct, "previews")
	checkA11y(t, ct, "previews")
	if q := text(t, ct, "#digest-queue"); !strings.Contains(q, "The next digest would carry the 1 letter due now") {
		t.Errorf("the digest preview says %q", q)
	}
	digest := text(t, ct, "#digest pre")
	for _, want := range []string{"Dear Mr. Sarandos,", "Ann Lee", "A title changed in the file", "Sent by Friends of Fair Screens"} {
		if !strings.Contains(digest, want) {
			t.Errorf("the previewed digest lacks %q:\n%s", want, digest)
		}
	}
	if letter := text(t, ct, "#letter pre"); !strings.Contains(letter, "Dear Mr. Sarandos,") || !strings.Contains(letter, "written in the console") {
		t.Errorf("the previewed letter:\n%s", letter)
	}
	if q, s := countStatus(t, a, "queued"), countStatus(t, a, "sent"); q != 4 || s != 0 {
		t.Fatalf("after the previews: %d queued, %d sent; want 4 and 0", q, s)
	}

	// Ted Sarandos's copy is put in a digest, left waiting as after a
	// failed attempt: opening the campaign sends it whole.
	ctx := context.Background()
	ds, err := a.Store.ClaimDigests(ctx, "walk", []store.DigestRequest{{Campaign: slug, Max: 10, Target: store.ClaimTarget{
		ID: "ted-sarandos", Name: "Ted Sarandos", Email: "ted.sarandos@example.com", Salutation: "Mr. Sarandos", Limit: 1}}})
	if err != nil || len(ds) != 1 {
		t.Fatalf("form a digest: %d (%v)", len(ds), err)
	}
	if err := a.Store.FinishDigests(ctx, []delivery.Outcome{{ID: ds[0].ID, Digest: true, Status: sendlog.Queued, Error: "left waiting by the test"}}); err != nil {
		t.Fatal(err)
	}

	// 5. Open: the letter is sent (by the dry-run mailer).
	run(t, ct, chromedp.Navigate(a.URL+page))
	clickAndLoad(t, ct, `button[value="open"]`)
	deadline := time.Now().Add(30 * time.Second)
	for countStatus(t, a, "sent") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after opening, %d of 4 letters sent", countStatus(t, a, "sent"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The send log shows the digest as one row; its page shows the one
	// email and the letter inside, whose page links back to it.
	run(t, ct, chromedp.Navigate(a.URL+"/admin/messages?target=ted-sarandos"))
	clickAndLoad(t, ct, `tr.digest a[href^="/admin/digests?id="]`)
	checkA11y(t, ct, "digest")
	if body := text(t, ct, "#email pre"); !strings.Contains(body, "Dear Mr. Sarandos,") || !strings.Contains(body, "Ann Lee") {
		t.Errorf("the digest's page shows the email:\n%s", body)
	}
	clickAndLoad(t, ct, "#inside a")
	checkA11y(t, ct, "message in a digest")
	if got := text(t, ct, "#in-digest"); !strings.Contains(got, "not sent as its own email") {
		t.Errorf("the letter's page says %q", got)
	}

	// 6. Close: the page shows the end, and no form.
	run(t, ct, chromedp.Navigate(a.URL+page))
	clickAndLoad(t, ct, `button[value="closed"]`)
	run(t, sup, chromedp.Navigate(a.URL+"/c/"+slug))
	if n := eval[int](t, sup, `document.querySelectorAll('form[action="/c/`+slug+`"]').length`); n != 0 {
		t.Error("the closed campaign's page still has the form")
	}
	if h := text(t, sup, "#ended-h"); h != "This campaign has ended" {
		t.Errorf("closed campaign heading %q", h)
	}
	if errs := ct.consoleErrors(); len(errs) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(errs, "\n"))
	}
}

// writePNG writes a small PNG image to p.
func writePNG(t *testing.T, p string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{R: 200, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
