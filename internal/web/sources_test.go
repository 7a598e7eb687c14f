package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/store"
)

// sources reads every supporter's source.
func sources(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := st.EachSupporter(context.Background(), "netflix-baby", func(r store.SupporterRow) error {
		out[r.Email] = r.Source
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A prefilled link fills the form and never sends it; the source rides in
// a hidden field; a bad one is left out.
func TestPrefilledLink(t *testing.T) {
	a := newTestApp(t)
	status, _, body := a.do(t, "GET", "/c/netflix-baby?first_name=Ann&last_name=Lee&email=ann%40example.org&postcode=N1+9GU&source=partner-7_x", "", "")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{`name="first_name" type="text" value="Ann"`, `name="last_name" type="text" value="Lee"`,
		`name="email" type="email" value="ann@example.org"`, `name="postcode" type="text" value="N1 9GU"`, `<input type="hidden" name="source" value="partner-7_x">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n, _ := a.store.SupporterCount(context.Background(), "netflix-baby"); n != 0 {
		t.Fatalf("a prefilled link stored %d supporters", n)
	}
	for _, bad := range []string{"Partner", "a b", "x;y", strings.Repeat("a", 65), "<script>"} {
		_, _, body := a.do(t, "GET", "/c/netflix-baby?source="+url.QueryEscape(bad), "", "")
		if strings.Contains(body, `name="source"`) {
			t.Errorf("source %q kept", bad)
		}
	}
	_, _, body = a.do(t, "GET", "/c/netflix-baby?first_name="+strings.Repeat("x", 101), "", "")
	if strings.Contains(body, strings.Repeat("x", 101)) {
		t.Error("a first name longer than its field was prefilled")
	}
}

// The source is kept per supporter from the form and from the API; the API
// refuses a bad one naming the field; a tampered hidden field costs the
// letter nothing.
func TestSourceStored(t *testing.T) {
	a := newTestApp(t)
	form := goodForm()
	form.Set("email", "form@example.org")
	form.Set("source", "newsletter-dec")
	if status, _, body := a.submit(t, form); status != http.StatusSeeOther {
		t.Fatalf("form: %d %s", status, body)
	}
	form.Set("email", "tampered@example.org")
	form.Set("source", "DROP TABLE")
	if status, _, body := a.submit(t, form); status != http.StatusSeeOther {
		t.Fatalf("form with a bad source: %d %s", status, body)
	}
	js := `{"first_name":"Ann","last_name":"Lee","email":"api@example.org","subject":"Stop","body":"Please stop.","accept_privacy":true,"source":"partner_site"}`
	if status, _, body := a.do(t, "POST", "/api/v1/campaigns/netflix-baby/letters", "application/json", js); status != http.StatusAccepted {
		t.Fatalf("api: %d %s", status, body)
	}
	bad := strings.Replace(js, `"partner_site"`, `"Partner Site"`, 1)
	bad = strings.Replace(bad, "api@", "bad@", 1)
	if status, _, body := a.do(t, "POST", "/api/v1/campaigns/netflix-baby/letters", "application/json", bad); status != http.StatusUnprocessableEntity || !strings.Contains(body, `"source"`) {
		t.Fatalf("api with a bad source: %d %s", status, body)
	}
	got := sources(t, a.store)
	want := map[string]string{"form@example.org": "newsletter-dec", "tampered@example.org": "", "api@example.org": "partner_site"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: source %q, want %q", k, got[k], v)
		}
	}
	if len(got) != 3 {
		t.Errorf("supporters %v", got)
	}
}

// The thank-you page's share links carry source=share-<network>.
func TestShareLinksCarrySource(t *testing.T) {
	a := newTestApp(t)
	_, _, body := a.do(t, "GET", "/c/netflix-baby/thanks", "", "")
	for host, want := range map[string]string{"wa.me/": "share-whatsapp", "x.com/intent/post": "share-x", "www.facebook.com/sharer": "share-facebook"} {
		u := shareHref(t, body, host)
		text := u.Query().Get("text") + u.Query().Get("u")
		if !strings.Contains(text, "http://outcry.test/c/netflix-baby?source="+want) {
			t.Errorf("%s: %q lacks source=%s", host, text, want)
		}
	}
	if m := regexp.MustCompile(`href="mailto:([^"]*)"`).FindStringSubmatch(body); m == nil || !strings.Contains(html.UnescapeString(m[1]), "source%3dshare-email") {
		t.Error("the email share link lacks source=share-email")
	}
	if !strings.Contains(body, `value="http://outcry.test/c/netflix-baby?source=share-link"`) {
		t.Error("the copied link lacks source=share-link")
	}
}
