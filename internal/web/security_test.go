package web

import (
	"context"
	"fmt"
	"github.com/outcry/outcry/internal/testkit"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/store"
)

const apiLetters = "/api/v1/campaigns/netflix-baby/letters"

func apiLetter(email string) string {
	return fmt.Sprintf(`{"first_name":"Ann","last_name":"Lee","email":%q,"subject":"S","body":"B","accept_privacy":true}`, email)
}

func withRate(n int, proxies ...string) func(*Deps) {
	return func(d *Deps) {
		d.Security.SubmitRate = n
		for _, p := range proxies {
			_, nw, err := net.ParseCIDR(p)
			if err != nil {
				panic(err)
			}
			d.Security.TrustedProxies = append(d.Security.TrustedProxies, nw)
		}
	}
}

func (a *testApp) supporters(t *testing.T) int {
	t.Helper()
	n, err := a.store.SupporterCount(context.Background(), "netflix-baby")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubmitRateLimitPerIP(t *testing.T) {
	t.Run("api", func(t *testing.T) {
		a := newTestApp(t, withRate(10))
		accepted, limited := 0, 0
		for i := range 20 {
			status, h, body := a.do(t, "POST", apiLetters, "application/json", apiLetter(fmt.Sprintf("a%d@example.org", i)))
			switch status {
			case http.StatusAccepted:
				accepted++
			case http.StatusTooManyRequests:
				limited++
				if h.Get("Retry-After") != "6" || !strings.Contains(body, `"error":"Too many letters`) {
					t.Fatalf("429 without Retry-After or JSON: %q %s", h.Get("Retry-After"), body)
				}
			default:
				t.Fatalf("submit %d: status %d", i, status)
			}
		}
		// A burst of 3 passes (4 if a token was earned meanwhile, 6 s later).
		if accepted < 3 || accepted > 4 || limited != 20-accepted {
			t.Fatalf("accepted %d, limited %d", accepted, limited)
		}
		if n := a.supporters(t); n != accepted {
			t.Fatalf("stored %d letters, accepted %d", n, accepted)
		}
		// Reading is not limited.
		if status, _, _ := a.do(t, "GET", "/api/v1/campaigns/netflix-baby", "", ""); status != 200 {
			t.Fatalf("GET after the limit: %d", status)
		}
	})
	t.Run("form", func(t *testing.T) {
		a := newTestApp(t, withRate(10))
		limited := 0
		for i := range 20 {
			form := goodForm()
			form.Set("email", fmt.Sprintf("f%d@example.org", i))
			status, h, body := a.submit(t, form)
			if status == http.StatusTooManyRequests {
				limited++
				if h.Get("Retry-After") == "" || !strings.Contains(body, "We kept your letter below") {
					t.Fatal("the HTML 429 lacks Retry-After or the form shown again")
				}
			} else if status != http.StatusSeeOther {
				t.Fatalf("form %d: %d", i, status)
			}
		}
		if limited < 16 {
			t.Fatalf("only %d of 20 form posts were limited", limited)
		}
	})
	t.Run("off", func(t *testing.T) {
		a := newTestApp(t, withRate(0))
		for i := range 20 {
			if status, _, _ := a.do(t, "POST", apiLetters, "application/json", apiLetter(fmt.Sprintf("o%d@example.org", i))); status != 202 {
				t.Fatalf("with the limit off, submit %d got %d", i, status)
			}
		}
	})
}

func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	post := func(a *testApp, i int) int {
		status, _, _ := a.doWith(t, "POST", apiLetters, "application/json", apiLetter(fmt.Sprintf("x%d@example.org", i)),
			func(r *http.Request) { r.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1)) })
		return status
	}
	untrusted := newTestApp(t, withRate(10))
	limited := 0
	for i := range 10 {
		if post(untrusted, i) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 6 {
		t.Fatalf("untrusted X-Forwarded-For split the limit: only %d of 10 limited", limited)
	}
	// Behind a trusted proxy (here loopback), each forwarded client has its own limit.
	trusted := newTestApp(t, withRate(10, "127.0.0.0/8", "::1/128"))
	for i := range 10 {
		if status := post(trusted, i); status != http.StatusAccepted {
			t.Fatalf("client %d behind a trusted proxy got %d", i, status)
		}
	}
	// …and one client behind it is still limited.
	limited = 0
	for i := range 10 {
		status, _, _ := trusted.doWith(t, "POST", apiLetters, "application/json", apiLetter(fmt.Sprintf("y%d@example.org", i)),
			func(r *http.Request) { r.Header.Set("X-Forwarded-For", "198.51.100.7") })
		if status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 6 {
		t.Fatalf("one forwarded client: only %d of 10 limited", limited)
	}
}

func TestCSRF(t *testing.T) {
	a := newTestApp(t)
	form := goodForm()
	form.Set("first_name", "Zoë")
	form.Set("body", "My own words, typed with care.")
	cookie, token := a.csrf(t)
	tests := []struct {
		name   string
		token  string
		cookie *http.Cookie
	}{
		{"forged token", "forged-token-value", cookie},
		{"no token", "", cookie},
		{"no cookie", token, nil},
		{"cookie of another visitor", token, &http.Cookie{Name: csrfCookie, Value: "someone-elses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cloneValues(form)
			if tt.token != "" {
				f.Set("csrf", tt.token)
			}
			f.Set("ts", a.srv.stamp(time.Now().Add(-time.Minute)))
			status, h, body := a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", f.Encode(), func(r *http.Request) {
				if tt.cookie != nil {
					r.AddCookie(tt.cookie)
				}
				r.Header.Set("Sec-Fetch-Site", "cross-site")
			})
			if status != http.StatusForbidden || !strings.Contains(body, "This form has expired, please reload") {
				t.Fatalf("status %d, want 403 with the message", status)
			}
			// What the supporter typed is not lost, and the new form can be sent.
			if !strings.Contains(body, `value="Zoë"`) || !strings.Contains(body, ">My own words, typed with care.</textarea>") {
				t.Fatal("the typed letter was lost")
			}
			if !csrfField.MatchString(body) || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Fatal("the re-rendered form lacks a token or the security headers")
			}
			if a.supporters(t) != 0 {
				t.Fatal("a forged form was stored")
			}
		})
	}
	// The re-rendered form, sent back with its cookie, goes through.
	f := cloneValues(form)
	f.Set("csrf", "forged")
	f.Set("ts", a.srv.stamp(time.Now().Add(-time.Minute)))
	resp, err := http.PostForm(a.http.URL+"/c/netflix-baby", f)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var again *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			again = c
		}
	}
	if again == nil || !again.HttpOnly || again.SameSite != http.SameSiteLaxMode {
		t.Fatalf("re-rendered form cookie: %+v", again)
	}
	f.Set("csrf", again.Value)
	status, _, _ := a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", f.Encode(), func(r *http.Request) { r.AddCookie(again) })
	if status != http.StatusSeeOther || a.supporters(t) != 1 {
		t.Fatalf("resending the re-rendered form: %d", status)
	}
}

func TestCSRFCookieSecureOnHTTPS(t *testing.T) {
	for base, secure := range map[string]bool{"https://outcry.example": true, "http://outcry.test": false} {
		a := newTestApp(t, func(d *Deps) { d.BaseURL = base })
		c, _ := a.csrf(t)
		if c.Secure != secure || !c.HttpOnly {
			t.Errorf("base %s: cookie Secure=%v HttpOnly=%v", base, c.Secure, c.HttpOnly)
		}
	}
}

func TestBotsGetThanksAndNothingIsQueued(t *testing.T) {
	tests := []struct {
		name string
		edit func(a *testApp, f url.Values)
	}{
		{"honeypot filled", func(a *testApp, f url.Values) {
			f.Set("website", "https://spam.example")
			f.Set("ts", a.srv.stamp(time.Now().Add(-time.Minute)))
		}},
		{"forged stamp", func(a *testApp, f url.Values) {
			f.Set("ts", fmt.Sprintf("%d.c2lnbmF0dXJl", time.Now().Add(-time.Minute).UnixMilli()))
		}},
		{"garbage stamp", func(a *testApp, f url.Values) { f.Set("ts", "yesterday") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t)
			cookie, token := a.csrf(t)
			f := goodForm()
			f.Set("csrf", token)
			tt.edit(a, f)
			status, h, _ := a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", f.Encode(), func(r *http.Request) { r.AddCookie(cookie) })
			if status != http.StatusSeeOther || h.Get("Location") != "/c/netflix-baby/thanks" {
				t.Fatalf("status %d to %q, want the normal redirect to thanks", status, h.Get("Location"))
			}
			if a.supporters(t) != 0 {
				t.Fatal("a bot's letter was stored")
			}
			if counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby"); len(counts) != 0 {
				t.Fatalf("messages queued: %v", counts)
			}
		})
	}
}

func TestOldOrUnstampedFormIsShownAgain(t *testing.T) {
	for name, ts := range map[string]func(a *testApp) string{
		"expired page": func(a *testApp) string { return a.srv.stamp(time.Now().Add(-25 * time.Hour)) },
		"no stamp":     func(*testApp) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t)
			cookie, token := a.csrf(t)
			f := goodForm()
			f.Set("csrf", token)
			f.Set("ts", ts(a))
			status, _, body := a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", f.Encode(), func(r *http.Request) { r.AddCookie(cookie) })
			if status != http.StatusUnprocessableEntity || !strings.Contains(body, "check your letter below and send it again") ||
				!strings.Contains(body, ">Please stop production.</textarea>") {
				t.Fatalf("status %d; want the form again with the letter and a message", status)
			}
			if a.supporters(t) != 0 {
				t.Fatal("stored")
			}
			// The fresh stamp on the page is usable.
			m := regexp.MustCompile(`name="ts" value="([^"]+)"`).FindStringSubmatch(body)
			if m == nil || a.srv.checkStamp(m[1]) != stampTooFast {
				t.Fatal("the re-rendered form has no fresh stamp")
			}
		})
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	a := newTestApp(t)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
		"X-Frame-Options":         "DENY",
	}
	inline := regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`)
	scripts := regexp.MustCompile(`(?i)<script[^>]*>(.{0,9})`)
	for _, path := range []string{"/", "/c/netflix-baby", "/c/netflix-baby/thanks", "/privacy", "/c/nope", "/static/style.css",
		"/api/v1/campaigns/netflix-baby", "/healthz", "/c/netflix-baby/confirm?t=x"} {
		status, h, body := a.do(t, "GET", path, "", "")
		for k, v := range want {
			if !strings.HasPrefix(h.Get(k), v) {
				t.Errorf("GET %s (%d): %s = %q, want %q", path, status, k, h.Get(k), v)
			}
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			if m := inline.FindString(body); m != "" {
				t.Errorf("GET %s: inline style or handler the CSP would block: %q", path, m)
			}
			for _, m := range scripts.FindAllStringSubmatch(body, -1) {
				if !strings.Contains(m[0], ` src="/`) || m[1] != "</script>" {
					t.Errorf("GET %s: inline script the CSP would block: %q", path, m[0])
				}
			}
		}
	}
	// Every page loads only its own stylesheet, script and images.
	_, _, body := a.do(t, "GET", "/", "", "")
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ref := m[1]
		if strings.Contains(m[0], "href") && !strings.Contains(body, `rel="stylesheet" href="`+ref) {
			continue // links, not loaded resources
		}
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("the page loads %s from another origin", ref)
		}
	}
}

func TestAPIRequiresJSONAndBoundsBodies(t *testing.T) {
	a := newTestApp(t)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"} {
		status, _, body := a.do(t, "POST", apiLetters, ct, apiLetter("a@example.org"))
		if status != http.StatusUnsupportedMediaType || !strings.Contains(body, `"error"`) {
			t.Errorf("Content-Type %q: %d %s, want 415", ct, status, body)
		}
	}
	if status, _, _ := a.do(t, "POST", apiLetters, "application/json; charset=utf-8", apiLetter("a@example.org")); status != 202 {
		t.Fatalf("JSON with a charset: %d", status)
	}
	huge := `{"body":"` + strings.Repeat("x", 200<<10) + `"}`
	if status, _, _ := a.do(t, "POST", apiLetters, "application/json", huge); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 200 KB API body: %d, want 413", status)
	}
	f := goodForm()
	f.Set("body", strings.Repeat("x", 200<<10))
	status, _, body := a.submit(t, f)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "Your letter is too long") {
		t.Fatalf("a 200 KB form: %d, want 413 with the error page", status)
	}
	// A letter at its limits in 4-byte characters still fits.
	f = goodForm()
	f.Set("body", strings.Repeat("😀", 5000))
	f.Set("subject", strings.Repeat("😀", 200))
	if status, _, _ := a.submit(t, f); status != http.StatusSeeOther {
		t.Fatalf("a letter at its limits in emoji: %d", status)
	}
}

func TestCORS(t *testing.T) {
	preflight := func(a *testApp, origin string) http.Header {
		_, h, _ := a.doWith(t, "OPTIONS", apiLetters, "", "", func(r *http.Request) {
			r.Header.Set("Origin", origin)
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "content-type")
		})
		return h
	}
	off := newTestApp(t)
	if h := preflight(off, "https://friends.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS headers without OUTCRY_CORS_ORIGINS")
	}
	on := newTestApp(t, func(d *Deps) { d.Security.CORSOrigins = []string{"https://friends.example"} })
	if h := preflight(on, "https://friends.example"); h.Get("Access-Control-Allow-Origin") != "https://friends.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("allowed origin preflight: %v", h)
	}
	if h := preflight(on, "https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("a foreign origin was allowed")
	}
	_, h, _ := on.doWith(t, "POST", apiLetters, "application/json", apiLetter("c@example.org"), func(r *http.Request) { r.Header.Set("Origin", "https://friends.example") })
	if h.Get("Access-Control-Allow-Origin") != "https://friends.example" {
		t.Fatal("the POST answer lacks the CORS header")
	}
	_, h, _ = on.doWith(t, "GET", "/c/netflix-baby", "", "", func(r *http.Request) { r.Header.Set("Origin", "https://friends.example") })
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS headers outside /api/v1")
	}
}

func TestUnicodeNamesAndLetters(t *testing.T) {
	a := newTestApp(t)
	people := []struct{ first, last, body string }{
		{"Анна", "Иванова", "Пожалуйста, остановите производство."},
		{"فاطمة", "الزهراء", "أرجو إيقاف الإنتاج."},
		{"美咲", "山田", "制作を中止してください。🙏"},
		{"Zoë", "O'Brien-Łukasz", "Bitte stoppen Sie die Produktion — danke."},
		{"अनन्या", "शर्मा", "कृपया उत्पादन रोकें।"},
	}
	for i, p := range people {
		f := goodForm()
		f.Set("first_name", p.first)
		f.Set("last_name", p.last)
		f.Set("body", p.body)
		f.Set("email", fmt.Sprintf("u%d@example.org", i))
		if status, _, _ := a.submit(t, f); status != http.StatusSeeOther {
			t.Fatalf("%s: form %d", p.first, status)
		}
		js := fmt.Sprintf(`{"first_name":%q,"last_name":%q,"email":"j%d@example.org","subject":"S","body":%q,"accept_privacy":true}`, p.first, p.last, i, p.body)
		if status, _, body := a.do(t, "POST", apiLetters, "application/json", js); status != 202 {
			t.Fatalf("%s: API %d %s", p.first, status, body)
		}
	}
	msgs, err := a.claim(t, 100), error(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.SupporterName] = true
		for _, p := range people {
			if m.SupporterName == p.first+" "+p.last && (!strings.Contains(m.Body, "\n"+p.body+"\n") || !strings.Contains(m.Body, p.first+" "+p.last)) {
				t.Errorf("letter of %s not rendered as written:\n%s", p.first, m.Body)
			}
		}
	}
	for _, p := range people {
		if !seen[p.first+" "+p.last] {
			t.Errorf("no letter signed %s %s", p.first, p.last)
		}
	}
	// Invalid UTF-8 is refused with a message, through the form and the API.
	f := goodForm()
	f.Set("first_name", "Ann\xff")
	f.Set("body", "bad \xc3\x28 bytes")
	status, _, body := a.submit(t, f)
	if status != http.StatusUnprocessableEntity || strings.Count(body, "not valid UTF-8 text") != 2 {
		t.Fatalf("invalid UTF-8 in the form: %d", status)
	}
	status, _, body = a.do(t, "POST", apiLetters, "application/json", "{\"first_name\":\"Ann\xff\",\"last_name\":\"L\",\"email\":\"z@example.org\",\"subject\":\"S\",\"body\":\"B\",\"accept_privacy\":true}")
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `"first_name":"Some characters could not be read (this is not valid UTF-8 text)`) {
		t.Fatalf("invalid UTF-8 in the API: %d %s", status, body)
	}
}

func TestConfirmationThroughTheSite(t *testing.T) {
	box := &testkit.Mailbox{}
	now := time.Now()
	var svc *confirm.Service
	a := newTestApp(t, func(d *Deps) {
		svc = &confirm.Service{Store: d.Store.(*store.Store), Mailer: box, Secret: []byte("s"), TTL: 48 * time.Hour, BaseURL: d.BaseURL,
			Title: func(string) string { return "Stop it" }, Now: func() time.Time { return now }}
		d.Confirm = svc
		d.Letters.Confirm = svc
	})
	if status, h, _ := a.submit(t, goodForm()); status != 303 || !strings.HasPrefix(h.Get("Location"), "/c/netflix-baby/thanks?r=") {
		t.Fatalf("submit: %d %s", status, h.Get("Location"))
	}
	if _, _, body := a.do(t, "GET", "/c/netflix-baby/thanks", "", ""); !strings.Contains(body, "please check your email") {
		t.Fatal("the thank-you page does not ask to confirm")
	}
	counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby")
	if counts["unconfirmed"] != 4 || counts["queued"] != 0 || len(box.Sent()) != 1 {
		t.Fatalf("held: %v, %d emails", counts, len(box.Sent()))
	}
	// A repeat within ten minutes answers the same and sends nothing more.
	if status, _, _ := a.do(t, "POST", apiLetters, "application/json", apiLetter("ANN@example.org")); status != 202 || len(box.Sent()) != 1 {
		t.Fatalf("repeat: %d, %d emails", status, len(box.Sent()))
	}
	link := regexp.MustCompile(`http://outcry\.test(/c/netflix-baby/confirm\?t=\S+)`).FindStringSubmatch(box.Sent()[0].Body)
	if link == nil {
		t.Fatalf("no link in %q", box.Sent()[0].Body)
	}
	path := link[1]
	for _, bad := range []string{path + "x", "/c/netflix-baby/confirm", "/c/netflix-baby/confirm?t=1.1.abc"} {
		if status, _, body := a.do(t, "GET", bad, "", ""); status != http.StatusBadRequest || !strings.Contains(body, "not valid") {
			t.Fatalf("tampered %s: %d", bad, status)
		}
	}
	now = now.Add(49 * time.Hour)
	if status, _, body := a.do(t, "GET", path, "", ""); status != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("expired link: %d", status)
	}
	now = now.Add(-49 * time.Hour)
	if counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby"); counts["unconfirmed"] != 4 {
		t.Fatalf("bad links changed something: %v", counts)
	}
	if status, _, body := a.pressConfirm(t, path); status != 200 || !strings.Contains(body, "your letter is confirmed") {
		t.Fatalf("valid link: %d", status)
	}
	if counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby"); counts["queued"] != 4 {
		t.Fatalf("after confirmation: %v", counts)
	}
	if status, _, body := a.pressConfirm(t, path); status != 200 || !strings.Contains(body, "Already confirmed") {
		t.Fatalf("reused link: %d", status)
	}
	// Without confirmation configured there is no confirm page.
	plain := newTestApp(t)
	if status, _, _ := plain.do(t, "GET", path, "", ""); status != 404 {
		t.Fatalf("confirm route with confirmation off: %d", status)
	}
}

func TestPrivacyPageFromConfiguration(t *testing.T) {
	a := newTestApp(t, func(d *Deps) { d.RetentionDays = 30 })
	if _, _, body := a.do(t, "GET", "/", "", ""); !strings.Contains(body, `<a href="/privacy">privacy notice</a>`) {
		t.Fatal("the form does not link the privacy notice")
	}
	_, _, body := a.do(t, "GET", "/privacy", "", "")
	if !strings.Contains(body, "deleted 30 days after") {
		t.Fatal("the privacy page does not state the retention period")
	}
}

// A browser that sends Fetch Metadata is trusted for same-origin posts (its
// page may carry echo's placeholder token and no cookie); a cross-site post
// still needs the token.
func TestCSRFWithFetchMetadata(t *testing.T) {
	a := newTestApp(t)
	_, _, page := a.doWith(t, "GET", "/c/netflix-baby", "", "", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "none") })
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no token on the page")
	}
	f := goodForm()
	f.Set("csrf", m[1])
	f.Set("ts", a.srv.stamp(time.Now().Add(-time.Minute)))
	post := func(site string) int {
		status, _, _ := a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", f.Encode(), func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", site) })
		return status
	}
	if status := post("cross-site"); status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", status)
	}
	if status := post("same-site"); status != http.StatusForbidden {
		t.Fatalf("same-site post without the cookie: %d, want 403", status)
	}
	if status := post("same-origin"); status != http.StatusSeeOther || a.supporters(t) != 1 {
		t.Fatalf("same-origin post: %d", status)
	}
}

var confirmForm = regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<input type="hidden" name="t" value="([^"]+)">\s*<input type="hidden" name="stamp" value="([^"]+)">`)

// pressConfirm opens a confirmation link as a person does, with no cookie:
// the page, then its button.
func (a *testApp) pressConfirm(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	status, _, page := a.do(t, "GET", path, "", "")
	m := confirmForm.FindStringSubmatch(page)
	if status != 200 || m == nil {
		t.Fatalf("GET %s: %d, no button in %s", path, status, page)
	}
	f := url.Values{"t": {html.UnescapeString(m[2])}, "stamp": {html.UnescapeString(m[3])}}
	return a.do(t, "POST", m[1], "application/x-www-form-urlencoded", f.Encode())
}

// Issue 27 item 1: mail gateways open every link on arrival (HEAD, GET with
// a scanner's user agent, no cookie); that must confirm nothing. Only the
// button's POST with the page's stamp does.
func TestConfirmationLinkScannersConfirmNothing(t *testing.T) {
	box := &testkit.Mailbox{}
	a := newTestApp(t, func(d *Deps) {
		svc := &confirm.Service{Store: d.Store.(*store.Store), Mailer: box, Secret: []byte("s"), TTL: 48 * time.Hour, BaseURL: d.BaseURL}
		d.Confirm = svc
		d.Letters.Confirm = svc
	})
	for _, email := range []string{"ann@example.org", "bob@example.org"} {
		if status, _, _ := a.do(t, "POST", apiLetters, "application/json", apiLetter(email)); status != 202 {
			t.Fatalf("sign %s: %d", email, status)
		}
	}
	linkRE := regexp.MustCompile(`http://outcry\.test(/c/netflix-baby/confirm\?t=\S+)`)
	ann, bob := linkRE.FindStringSubmatch(box.Sent()[0].Body)[1], linkRE.FindStringSubmatch(box.Sent()[1].Body)[1]
	unconfirmed := func() int {
		counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby")
		return counts["unconfirmed"]
	}
	scanners := map[string]func(*http.Request){
		"HEAD":       func(r *http.Request) { r.Method = "HEAD" },
		"Safe Links": func(r *http.Request) { r.Header.Set("User-Agent", "Mozilla/5.0 (compatible; Microsoft Safe Links)") },
		"Proofpoint": func(r *http.Request) { r.Header.Set("User-Agent", "Proofpoint URL Defense") },
	}
	for name, edit := range scanners {
		for i := 0; i < 3; i++ {
			if status, _, _ := a.doWith(t, "GET", ann, "", "", edit); status != 200 {
				t.Fatalf("%s: %d", name, status)
			}
		}
		if n := unconfirmed(); n != 8 {
			t.Fatalf("%s confirmed a letter: %d unconfirmed, want 8", name, n)
		}
	}
	_, _, page := a.do(t, "GET", ann, "", "")
	m := confirmForm.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no button on %s", page)
	}
	annTok, annStamp := html.UnescapeString(m[2]), html.UnescapeString(m[3])
	_, _, page = a.do(t, "GET", bob, "", "")
	bobTok := html.UnescapeString(confirmForm.FindStringSubmatch(page)[2])
	post := func(tok, stamp string, edit func(*http.Request)) (int, string) {
		f := url.Values{"t": {tok}}
		if stamp != "" {
			f.Set("stamp", stamp)
		}
		status, _, body := a.doWith(t, "POST", "/c/netflix-baby/confirm", "application/x-www-form-urlencoded", f.Encode(), edit)
		return status, body
	}
	// A bare POST of the link (no stamp) is shown the button again.
	if status, body := post(annTok, "", nil); status != 200 || !confirmForm.MatchString(body) || unconfirmed() != 8 {
		t.Fatalf("post without stamp: %d, %d unconfirmed", status, unconfirmed())
	}
	// Ann's page's stamp does nothing for Bob's link.
	if status, _ := post(bobTok, annStamp, nil); status != http.StatusForbidden || unconfirmed() != 8 {
		t.Fatalf("another link's stamp: %d, %d unconfirmed", status, unconfirmed())
	}
	// A post that says it is cross-site is refused.
	if status, _ := post(annTok, annStamp, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }); status != http.StatusForbidden || unconfirmed() != 8 {
		t.Fatalf("cross-site post: %d, %d unconfirmed", status, unconfirmed())
	}
	// The button, with no cookie at all, confirms Ann's letter only.
	if status, body := post(annTok, annStamp, nil); status != 200 || !strings.Contains(body, "your letter is confirmed") || unconfirmed() != 4 {
		t.Fatalf("button: %d, %d unconfirmed", status, unconfirmed())
	}
}
