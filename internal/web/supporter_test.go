package web

import (
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// shareHref is the decoded href of the share link to host on a page.
func shareHref(t *testing.T, body, host string) *url.URL {
	t.Helper()
	m := regexp.MustCompile(`href="(https://` + regexp.QuoteMeta(host) + `[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no share link to %s", host)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The text a person receives through WhatsApp or X is the message and a
// link they can tap: escaped once, not twice.
func TestShareLinksCarryTheTextOnce(t *testing.T) {
	a := newTestApp(t)
	for _, path := range []string{"/c/netflix-baby", "/c/netflix-baby/thanks"} {
		_, _, body := a.do(t, "GET", path, "", "")
		for host, param := range map[string]string{"wa.me/": "text", "x.com/intent/post": "text", "www.facebook.com/sharer": "u"} {
			if strings.Contains(body, "&amp;amp;") {
				t.Errorf("%s: an ampersand escaped twice", path)
			}
			got := shareHref(t, body, host).Query().Get(param)
			if !strings.Contains(got, "http://outcry.test/c/netflix-baby") || strings.Contains(got, "%") || strings.Contains(got, "+") {
				t.Errorf("%s: %s %s= %q, want the text with a plain link", path, host, param, got)
			}
			want := "Netflix is normalizing sexual exploitation of minors http://outcry.test/c/netflix-baby"
			if strings.HasSuffix(path, "/thanks") {
				want = "I just wrote to the decision-makers: “Netflix is normalizing sexual exploitation of minors”. It takes two minutes. Will you write too? http://outcry.test/c/netflix-baby"
			}
			want += map[string]string{"wa.me/": "?source=share-whatsapp", "x.com/intent/post": "?source=share-x"}[host]
			if param == "text" && got != want {
				t.Errorf("%s: %s text = %q, want %q", path, host, got, want)
			}
		}
	}
}

// A complete form sent sooner than OUTCRY_FORM_MIN_TIME (autofill, a quick
// typist) is shown again with everything kept; nothing is stored, and the
// writer is not thanked for a letter that went nowhere.
func TestTooFastFormIsShownAgain(t *testing.T) {
	for name, rendered := range map[string]time.Duration{"one second after rendering": -time.Second, "stamp from the future": time.Hour} {
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t)
			f := goodForm()
			f.Set("consent_updates", "true")
			status, h, body := a.submitAt(t, f, time.Now().Add(rendered))
			if status != http.StatusUnprocessableEntity || h.Get("Location") != "" {
				t.Fatalf("status %d to %q, want 422 and the form again", status, h.Get("Location"))
			}
			for _, want := range []string{"Please check your letter below and send it.", `value="Ann"`, `value="Lee"`,
				`value="ann@example.org"`, `value="SW1A 1AA"`, `value="Stop Baby"`, ">Please stop production.</textarea>",
				`id="f-consent" name="consent_updates" value="true" checked`, `id="f-accept_privacy" name="accept_privacy" value="true" required checked`} {
				if !strings.Contains(body, want) {
					t.Errorf("the form shown again lacks %s", want)
				}
			}
			if strings.Contains(body, "Thank you — your letter") { // the thanks heading (the campaign's own letter, carried for the meter, may say "Thank you")
				t.Error("thanked for a letter that was not stored")
			}
			if a.supporters(t) != 0 {
				t.Fatal("stored")
			}
			// Sending the form shown again, later, stores the letter.
			m := regexp.MustCompile(`name="ts" value="([^"]+)"`).FindStringSubmatch(body)
			if m == nil || a.srv.checkStamp(m[1]) != stampTooFast {
				t.Fatal("the form shown again has no fresh stamp")
			}
		})
	}
}

// Over the submission limit, the form comes back with everything typed and
// the reason, not an error page whose link opens an empty form.
func TestRateLimitedFormKeepsTheLetter(t *testing.T) {
	a := newTestApp(t, withRate(1))
	var body string
	status := 0
	for i := range 6 {
		f := goodForm()
		f.Set("email", fmt.Sprintf("r%d@example.org", i))
		f.Set("body", "My own words, number "+fmt.Sprint(i)+".")
		var h http.Header
		status, h, body = a.submit(t, f)
		if status == http.StatusTooManyRequests {
			if h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if !strings.Contains(body, ">My own words, number "+fmt.Sprint(i)+".</textarea>") ||
				!strings.Contains(body, fmt.Sprintf(`value="r%d@example.org"`, i)) || !strings.Contains(body, "We kept your letter below") {
				t.Fatalf("the 429 page lacks the letter as typed or the message:\n%s", body)
			}
			if !strings.Contains(body, `name="csrf" value="`) || !strings.Contains(body, `name="ts" value="`) {
				t.Fatal("the form shown again cannot be sent (no CSRF token or stamp)")
			}
			return
		}
	}
	t.Fatalf("never limited (last status %d)", status)
}

// Uptime monitors and link checkers use HEAD.
func TestHeadAnsweredWhereGetIs(t *testing.T) {
	a := newTestApp(t)
	for _, path := range []string{"/healthz", "/", "/c/netflix-baby", "/c/netflix-baby/thanks", "/privacy",
		"/static/style.css", "/api/v1/campaigns/netflix-baby"} {
		get, gh, _ := a.do(t, "GET", path, "", "")
		status, h, body := a.do(t, "HEAD", path, "", "")
		if status != get || status != http.StatusOK || body != "" || h.Get("Content-Type") != gh.Get("Content-Type") {
			t.Errorf("HEAD %s = %d %q (body %d bytes), GET = %d %q", path, status, h.Get("Content-Type"), len(body), get, gh.Get("Content-Type"))
		}
	}
	if status, _, _ := a.do(t, "HEAD", "/c/nope", "", ""); status != http.StatusNotFound {
		t.Errorf("HEAD of a missing page = %d, want 404", status)
	}
	if status, _, _ := a.do(t, "HEAD", "/webhooks/sendgrid", "", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD of a POST-only route = %d, want 405", status)
	}
}

// Link previews point at a 1200×630 PNG the networks show (not the SVG).
func TestLinkPreviewIsAPNG(t *testing.T) {
	a := newTestApp(t)
	_, _, body := a.do(t, "GET", "/c/netflix-baby", "", "")
	for _, meta := range []string{`property="og:image"`, `name="twitter:image"`} {
		m := regexp.MustCompile(`<meta ` + meta + ` content="([^"]+)">`).FindStringSubmatch(body)
		if m == nil || m[1] != "http://outcry.test/c/netflix-baby/preview.png" {
			t.Fatalf("%s = %v, want the campaign's preview PNG", meta, m)
		}
	}
	for _, want := range []string{`<meta property="og:image:width" content="1200">`, `<meta property="og:image:height" content="630">`,
		`<meta property="og:image:type" content="image/png">`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s", want)
		}
	}
	status, h, img := a.do(t, "GET", "/c/netflix-baby/preview.png", "", "")
	if status != 200 || h.Get("Content-Type") != "image/png" {
		t.Fatalf("preview.png: %d %s", status, h.Get("Content-Type"))
	}
	cfg, err := png.DecodeConfig(strings.NewReader(img))
	if err != nil || cfg.Width != 1200 || cfg.Height != 630 {
		t.Fatalf("preview.png is %dx%d (%v), want a 1200×630 PNG", cfg.Width, cfg.Height, err)
	}
	if status, _, _ := a.do(t, "GET", "/c/other/preview.png", "", ""); status != 404 {
		t.Errorf("preview of an unknown campaign: %d", status)
	}
}
