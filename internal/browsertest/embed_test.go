package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/outcry/outcry/internal/store"
)

// cookieControls are the parameters of Network.setCookieControls as this
// Chromium takes them (cdproto names only the first).
type cookieControls struct {
	Restrict     bool `json:"enableThirdPartyCookieRestriction"`
	NoMetadata   bool `json:"disableThirdPartyCookieMetadata"`
	NoHeuristics bool `json:"disableThirdPartyCookieHeuristics"`
}

// setCookieControls blocks third-party cookies in a tab, as Chromium does by
// default in incognito windows and in many settings.
var setCookieControls = cdp.Command[cookieControls, cdp.Empty]{Method: network.CommandSetCookieControls}

// hostPage serves, on a second loopback address (another origin and
// another site), a page that embeds the campaign with the embed code.
func hostPage(t *testing.T, ip, outcryURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>A partner's page</title></head><body>
<h1>Our partner's campaign</h1>
<script src="%s/embed.js" data-campaign="netflix-baby" data-source="partner-site" async></script>
<p id="after">After the form.</p>
</body></html>`, outcryURL)
	}))
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	return hs.URL
}

// embedTarget is the embed's iframe, as a target of its own (a cross-site
// iframe runs in its own process), once it has loaded path.
func embedTarget(t *testing.T, ctx context.Context, path string) context.Context {
	t.Helper()
	for range 300 {
		ts, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range ts {
			if ti.Type == "iframe" && strings.Contains(ti.URL, path) {
				fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
				t.Cleanup(cancel)
				return fctx
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no iframe target at %s", path)
	return nil
}

// frameHeight waits until the iframe's height is no longer old and returns it.
func frameHeight(t *testing.T, ctx context.Context, old float64) float64 {
	t.Helper()
	var h float64
	for range 300 {
		h = eval[float64](t, ctx, `document.querySelector("iframe.outcry-embed").getBoundingClientRect().height`)
		if h != old {
			return h
		}
		time.Sleep(50 * time.Millisecond)
	}
	return h
}

// The embed works on another site's page in Chromium with third-party
// cookies blocked: a letter is sent through it, the thank-you step shows,
// and the iframe's height follows its content. A site that is not allowed
// cannot frame it.
func TestEmbedFromAnotherOrigin(t *testing.T) {
	t.Parallel()
	t.Run("allowed", func(t *testing.T) {
		// Start outcry knowing the host's origin: the host listens first.
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skip(err)
		}
		hostOrigin := "http://" + ln.Addr().String()
		a := newApp(t, withEnv("OUTCRY_EMBED_ORIGINS", hostOrigin))
		hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>A partner's page</title></head><body>
<h1>Our partner's campaign</h1>
<script src="%s/embed.js" data-campaign="netflix-baby" data-source="partner-site" async></script>
<p id="after">After the form.</p>
</body></html>`, a.URL)
		}))
		hs.Listener = ln
		hs.Start()
		t.Cleanup(hs.Close)

		ctx := tab(t)
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, setCookieControls, cookieControls{Restrict: true}); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, chromedp.Navigate(hs.URL+"/?first_name=Ann"))
		h1 := frameHeight(t, ctx, 640)
		if h1 == 640 || h1 < 300 {
			t.Fatalf("the iframe did not take its content's height: %v px", h1)
		}
		fctx := embedTarget(t, ctx, "/c/netflix-baby/embed")
		run(t, fctx, chromedp.WaitVisible(chromedp.ID("f-email")))
		if got := eval[string](t, fctx, `document.getElementById("f-first_name").value`); got != "Ann" {
			t.Errorf("prefilled first name %q", got)
		}
		if eval[bool](t, fctx, `!!document.querySelector(".story")`) {
			t.Error("the embed shows the story")
		}
		run(t, fctx,
			chromedp.SendKeys(chromedp.ID("f-last_name"), "Lee"),
			chromedp.SendKeys(chromedp.ID("f-email"), "embed@example.org"),
			chromedp.Click(chromedp.ID("f-accept_privacy")),
		)
		if _, err := chromedp.Run(fctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("form button[type=submit]")))); err != nil {
			t.Fatalf("send: %v", err)
		}
		tctx := embedTarget(t, ctx, "/c/netflix-baby/embed/thanks")
		run(t, tctx, chromedp.WaitVisible(chromedp.ID("thanks-h")))
		h2 := frameHeight(t, ctx, h1)
		if h2 == h1 {
			t.Errorf("the iframe's height did not follow the thank-you step: %v px", h2)
		}
		got := eval[float64](t, tctx, `Math.ceil(document.documentElement.getBoundingClientRect().height)`)
		if d := got - h2; d > 2 || d < -2 {
			t.Errorf("iframe %v px, its content %v px", h2, got)
		}
		msgs := a.messages(t)
		if len(msgs) == 0 || msgs[0].Signer != "Ann Lee" {
			t.Fatalf("messages %+v", msgs)
		}
		var source string
		if err := a.Store.EachSupporter(context.Background(), "netflix-baby", func(r store.SupporterRow) error { source = r.Source; return nil }); err != nil {
			t.Fatal(err)
		}
		if source != "partner-site" {
			t.Errorf("source %q, want partner-site (data-source)", source)
		}
		// Third-party cookies were blocked, and the embed needed none.
		cs, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Cookies) != 0 {
			t.Errorf("cookies kept: %+v", cs.Cookies)
		}
	})
	t.Run("not allowed", func(t *testing.T) {
		a := newApp(t, withEnv("OUTCRY_EMBED_ORIGINS", "https://partner.example"))
		host := hostPage(t, "127.0.0.3", a.URL)
		ctx := tab(t)
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, chromedp.Navigate(host+"/"))
		time.Sleep(time.Second) // give a framed page time to send its height, which it must not
		if h := eval[float64](t, ctx, `document.querySelector("iframe.outcry-embed").getBoundingClientRect().height`); h != 640 {
			t.Errorf("the iframe was sized by its content (%v px): it was framed", h)
		}
		ts, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range ts {
			if ti.Type == "iframe" && strings.Contains(ti.URL, "/embed") {
				fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
				defer cancel()
				if eval[bool](t, fctx, `!!document.getElementById("f-email")`) {
					t.Error("the form is shown inside a page of a site that is not allowed")
				}
			}
		}
	})
}
