package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Only the embed's pages may be framed, and only by OUTCRY_EMBED_ORIGINS;
// every other page keeps refusing.
func TestEmbedFraming(t *testing.T) {
	a := newTestApp(t, func(d *Deps) { d.Security.EmbedOrigins = []string{"https://partner.example", "http://127.0.0.2:8080"} })
	for _, path := range []string{"/c/netflix-baby/embed", "/c/netflix-baby/embed/thanks"} {
		status, h, body := a.do(t, "GET", path+"?origin=https%3A%2F%2Fpartner.example", "", "")
		csp := h.Get("Content-Security-Policy")
		if status != 200 || !strings.Contains(csp, "frame-ancestors https://partner.example http://127.0.0.2:8080;") || h.Get("X-Frame-Options") != "" {
			t.Errorf("%s: %d, CSP %q, XFO %q", path, status, csp, h.Get("X-Frame-Options"))
		}
		if !strings.Contains(body, `data-parent-origin="https://partner.example"`) {
			t.Errorf("%s: no parent origin in the page", path)
		}
	}
	_, _, body := a.do(t, "GET", "/c/netflix-baby/embed?origin=https%3A%2F%2Fevil.example", "", "")
	if !strings.Contains(body, `data-parent-origin=""`) {
		t.Error("the embed sends its height to an origin that is not allowed")
	}
	for _, path := range []string{"/", "/c/netflix-baby", "/c/netflix-baby/thanks", "/privacy", "/embed.js"} {
		_, h, _ := a.do(t, "GET", path, "", "")
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s may be framed: %v", path, h)
		}
	}
	b := newTestApp(t)
	_, h, _ := b.do(t, "GET", "/c/netflix-baby/embed", "", "")
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("without OUTCRY_EMBED_ORIGINS the embed may be framed: %v", h)
	}
}

// The embed's form needs no cookie; a post from another site is refused,
// and so is one without the form's signed stamp.
func TestEmbedPost(t *testing.T) {
	a := newTestApp(t, func(d *Deps) { d.Security.EmbedOrigins = []string{"https://partner.example"} })
	status, _, body := a.do(t, "GET", "/c/netflix-baby/embed?source=partner", "", "")
	if status != 200 || strings.Contains(body, `name="csrf"`) && !strings.Contains(body, `name="csrf" value=""`) {
		t.Fatalf("embed page: %d", status)
	}
	form := goodForm()
	form.Set("email", "embed@example.org")
	form.Set("source", "partner")
	form.Set("ts", a.srv.stamp(a.srv.now().Add(-5*time.Second)))
	post := func(form url.Values, hdr map[string]string) (int, http.Header) {
		st, h, _ := a.doWith(t, "POST", "/c/netflix-baby/embed?origin=https%3A%2F%2Fpartner.example", "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) {
			for k, v := range hdr {
				r.Header.Set(k, v)
			}
		})
		return st, h
	}
	if st, _ := post(form, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
		t.Errorf("cross-site post: %d", st)
	}
	if st, _ := post(form, map[string]string{"Origin": "https://evil.example"}); st != http.StatusForbidden {
		t.Errorf("post from another origin: %d", st)
	}
	st, h := post(form, map[string]string{"Origin": a.http.URL, "Sec-Fetch-Site": "same-origin"})
	if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/c/netflix-baby/embed/thanks?origin=https%3A%2F%2Fpartner.example&r=") {
		t.Fatalf("post: %d %v", st, h)
	}
	if got := sources(t, a.store)["embed@example.org"]; got != "partner" {
		t.Errorf("source %q", got)
	}
	// A post without the signed stamp stores nothing.
	form.Set("email", "nostamp@example.org")
	form.Del("ts")
	if st, _ := post(form, map[string]string{"Origin": a.http.URL}); st != http.StatusUnprocessableEntity {
		t.Errorf("post without a stamp: %d", st)
	}
	if _, ok := sources(t, a.store)["nostamp@example.org"]; ok {
		t.Error("a post without a stamp was stored")
	}
}
