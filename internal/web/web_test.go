package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/openapi/oatest"
	"github.com/outcry/outcry/internal/outbox"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

type testApp struct {
	srv    *Server
	store  *store.Store
	http   *httptest.Server
	outbox *outbox.Outbox // the sender's queue (tests claim from it)
	dbPath string
}

// claim leases up to n due messages as the sender would, rendered.
func (a *testApp) claim(t testing.TB, n int) []delivery.Message {
	t.Helper()
	msgs, err := a.outbox.Claim(context.Background(), n, func(string) delivery.Room { return delivery.Room{Slots: n} })
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func newTestApp(t testing.TB, opts ...func(*Deps)) *testApp {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "web.db")
	st, err := store.Open(ctx, pgtest.DB(t, dbPath))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	camp, err := campaign.Load("../../campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := target.NewRegistry("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := os.DirFS("../../templates")
	r, err := letter.NewRenderer(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	campaigns, err := campaign.NewService(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := campaigns.Seed(ctx, camp); err != nil {
		t.Fatal(err)
	}
	d := Deps{
		Campaigns: campaigns, Organizer: camp.Organizer, Store: st, Targets: reg, Templates: tmpl, Static: os.DirFS("../../static"),
		Letters: &letter.Service{Store: st, Targets: reg, Renderer: r},
		BaseURL: "http://outcry.test",
		// The rate limit is off unless a test turns it on (many tests post from one address).
		Security: Security{FormSecret: []byte("test form secret"), FormMinTime: 3 * time.Second},
	}
	for _, o := range opts {
		o(&d)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Echo)
	t.Cleanup(hs.Close)
	return &testApp{srv: srv, store: st, http: hs, outbox: outbox.NewOutbox(st, reg, r), dbPath: dbPath}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (a *testApp) do(t *testing.T, method, path, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := oatest.Client(t).Do(req) // answers of /api/v1 are checked against the OpenAPI document
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// submit posts the form as a browser would: it loads the page first (the
// CSRF cookie and token) and sends the form a minute after rendering.
func (a *testApp) submit(t *testing.T, form url.Values) (int, http.Header, string) {
	t.Helper()
	return a.submitAt(t, form, time.Now().Add(-time.Minute))
}

func (a *testApp) submitAt(t *testing.T, form url.Values, rendered time.Time) (int, http.Header, string) {
	t.Helper()
	cookie, token := a.csrf(t)
	form = cloneValues(form)
	form.Set("csrf", token)
	form.Set("ts", a.srv.stamp(rendered))
	return a.doWith(t, "POST", "/c/netflix-baby", "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) { r.AddCookie(cookie) })
}

// csrf loads the campaign page and returns its CSRF cookie and form token.
func (a *testApp) csrf(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	resp, err := http.Get(a.http.URL + "/c/netflix-baby")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfField.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("the form carries no CSRF token")
	}
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			return c, m[1]
		}
	}
	t.Fatal("the page set no CSRF cookie")
	return nil, ""
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (a *testApp) doWith(t *testing.T, method, path, contentType, body string, edit func(*http.Request)) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := oatest.Client(t).Do(req) // answers of /api/v1 are checked against the OpenAPI document
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func goodForm() url.Values {
	return url.Values{
		"first_name": {"Ann"}, "last_name": {"Lee"}, "email": {"ann@example.org"}, "postcode": {"SW1A 1AA"},
		"subject": {"Stop Baby"}, "body": {"Please stop production."}, "accept_privacy": {"true"},
	}
}

func TestCampaignPageShowsTheSeedCampaign(t *testing.T) {
	a := newTestApp(t)
	for _, path := range []string{"/", "/c/netflix-baby"} {
		status, _, body := a.do(t, "GET", path, "", "")
		if status != 200 {
			t.Fatalf("GET %s = %d", path, status)
		}
		for _, want := range []string{
			"Netflix is normalizing sexual exploitation of minors",
			"Teenage sexual exploitation is not &#39;edgy&#39; entertainment",
			"Baby Squillo scandal",
			"contact Netflix executives to tell them to stop production",
			`alt="Campaign image`,
			"Ted Sarandos", "Greg Peters", "Bela Bajaria",
			`name="first_name"`, `name="last_name"`, `name="email"`, `name="postcode"`,
			`name="consent_updates"`, `name="accept_privacy"`, `name="subject"`, `<textarea id="f-body" name="body"`,
			"<strong id=\"count\">0</strong>",
			`method="post" action="/c/netflix-baby"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: page lacks %q", path, want)
			}
		}
		if strings.Contains(body, `name="consent_updates" value="true" checked`) {
			t.Error("consent box is ticked by default")
		}
	}
	if status, _, _ := a.do(t, "GET", "/c/no-such-campaign", "", ""); status != 404 {
		t.Fatalf("unknown campaign = %d, want 404", status)
	}
	if status, _, body := a.do(t, "GET", "/static/campaign.svg", "", ""); status != 200 || !strings.Contains(body, "edgy") {
		t.Fatalf("campaign image: %d", status)
	}
}

func TestFormValidationKeepsInput(t *testing.T) {
	tests := []struct {
		name, field, value, msg string
	}{
		{"missing first name", "first_name", "", "Please enter your first name."},
		{"missing last name", "last_name", "", "Please enter your last name."},
		{"bad email", "email", "ann@@example", "Please enter a valid email address"},
		{"subject too long", "subject", strings.Repeat("s", 201), "200 characters or fewer"},
		{"subject with newline", "subject", "a\r\nBcc: x@example.com", "single line"},
		{"empty body", "body", "", "Please enter your letter."},
		{"body too long", "body", strings.Repeat("b", 5001), "5000 characters or fewer"},
		{"long postcode", "postcode", strings.Repeat("9", 21), "20 characters or fewer"},
		{"privacy not accepted", "accept_privacy", "", "Please confirm that you have read the privacy notice."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t)
			form := goodForm()
			form.Set("first_name", "Zoë <script>")
			form.Set(tt.field, tt.value)
			form.Set("consent_updates", "true")
			status, _, body := a.submit(t, form)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422", status)
			}
			wantErr := fmt.Sprintf(`<p class="error" id="f-%s-error">`, tt.field)
			if !strings.Contains(body, wantErr) || !strings.Contains(body, tt.msg) {
				t.Fatalf("page lacks the error at %s (%q)", tt.field, tt.msg)
			}
			if !regexp.MustCompile(fmt.Sprintf(`aria-describedby="[^"]*f-%s-error"`, tt.field)).MatchString(body) {
				t.Errorf("the error is not linked to the field with aria-describedby")
			}
			// Everything typed is kept (escaped), except what was wrong.
			for _, f := range []string{"last_name", "email", "postcode", "subject"} {
				if f == tt.field {
					continue
				}
				if !strings.Contains(body, fmt.Sprintf(`name="%s" type=`, f)) || !strings.Contains(body, `value="`+htmlEscape(form.Get(f))+`"`) {
					t.Errorf("field %s lost its value %q", f, form.Get(f))
				}
			}
			if tt.field != "first_name" && !strings.Contains(body, `value="Zoë &lt;script&gt;"`) {
				t.Error("first name not kept, or not escaped")
			}
			if tt.field != "body" && !strings.Contains(body, ">Please stop production.</textarea>") {
				t.Error("letter text lost")
			}
			if !strings.Contains(body, `name="consent_updates" value="true" checked`) {
				t.Error("consent choice lost")
			}
			if n, _ := a.store.SupporterCount(context.Background(), "netflix-baby"); n != 0 {
				t.Fatal("an invalid form was stored")
			}
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestFormSubmitQueuesAndRedirects(t *testing.T) {
	a := newTestApp(t)
	status, h, _ := a.submit(t, goodForm())
	if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/c/netflix-baby/thanks?r=") {
		t.Fatalf("status %d location %q, want 303 to the thank-you page with the receipt", status, h.Get("Location"))
	}
	status, _, body := a.do(t, "GET", h.Get("Location"), "", "")
	if status != 200 || !strings.Contains(body, "Thank you") || !strings.Contains(body, `<strong id="count">1</strong>`) {
		t.Fatalf("thank-you page: %d", status)
	}
	if !strings.Contains(body, "https://wa.me/?text=") || !strings.Contains(body, "mailto:?subject=") {
		t.Error("thank-you page lacks share links")
	}
	counts, err := a.store.StatusCounts(context.Background(), "netflix-baby")
	if err != nil || counts["queued"] != 4 {
		t.Fatalf("messages by status = %v, want 4 queued (one per active target)", counts)
	}
}

func TestAPISign(t *testing.T) {
	const path = "/api/v1/campaigns/netflix-baby/letters"
	good := `{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","postcode":"","subject":"Stop","body":"Please stop.","consent_updates":true,"accept_privacy":true}`
	tests := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"accepted", path, good, 202, `{"status":"accepted","targets":["ted-sarandos",`},
		{"invalid", path, `{"first_name":"","email":"nope","subject":"s","body":"b","accept_privacy":true}`, 422, `"email":"Please enter a valid email address`},
		{"missing privacy", path, strings.Replace(good, `"accept_privacy":true`, `"accept_privacy":false`, 1), 422, `"accept_privacy":`},
		{"malformed", path, `{"first_name":`, 400, `"error"`},
		{"wrong type", path, `{"first_name":1}`, 400, `first_name`},
		{"not an object", path, `[1,2]`, 400, `"error"`},
		{"two objects", path, good + good, 400, `"error"`},
		{"unknown campaign", "/api/v1/campaigns/nope/letters", good, 404, `"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t)
			status, h, body := a.do(t, "POST", tt.path, "application/json", tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d %s, want %d with %s", status, body, tt.status, tt.want)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Errorf("content type %q", h.Get("Content-Type"))
			}
		})
	}
}

func TestDedupeAcrossCaseAndWhitespace(t *testing.T) {
	a := newTestApp(t)
	const path = "/api/v1/campaigns/netflix-baby/letters"
	const first = `{"status":"accepted","targets":["ted-sarandos","greg-peters","bela-bajaria","reed-hastings"]}` + "\n"
	for _, email := range []string{"ann@example.org", "ANN@Example.org", "  ann@example.ORG  ", "\tAnn@example.org"} {
		body := fmt.Sprintf(`{"first_name":"Ann","last_name":"Lee","email":%q,"subject":"S","body":"B","accept_privacy":true}`, email)
		status, _, resp := a.do(t, "POST", path, "application/json", body)
		if status != 202 || resp != first {
			t.Fatalf("%q: %d %q; a repeat must look exactly like a new letter", email, status, resp)
		}
	}
	// The HTML form answers a repeat exactly like a first letter too.
	form := goodForm()
	form.Set("email", " ANN@EXAMPLE.ORG")
	status, h, _ := a.submit(t, form)
	if status != 303 || h.Get("Location") != "/c/netflix-baby/thanks?m=own" {
		t.Fatalf("repeat form: %d %s", status, h.Get("Location"))
	}
	if n, _ := a.store.SupporterCount(context.Background(), "netflix-baby"); n != 1 {
		t.Fatalf("supporters = %d, want 1", n)
	}
	counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby")
	if counts["queued"] != 4 {
		t.Fatalf("messages = %v, want one set of 4", counts)
	}
}

func TestConcurrentSubmitsOfOneAddress(t *testing.T) {
	a := newTestApp(t)
	body := `{"first_name":"Ann","last_name":"Lee","email":"same@example.org","subject":"S","body":"B","accept_privacy":true}`
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(a.http.URL+"/api/v1/campaigns/netflix-baby/letters", "application/json", strings.NewReader(body))
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 202 {
			t.Fatalf("a concurrent submit got %d", s)
		}
	}
	if n, _ := a.store.SupporterCount(context.Background(), "netflix-baby"); n != 1 {
		t.Fatalf("supporters = %d, want 1", n)
	}
	counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby")
	if counts["queued"] != 4 {
		t.Fatalf("messages = %v, want exactly one set of 4", counts)
	}
}

func TestAPICampaign(t *testing.T) {
	a := newTestApp(t)
	a.do(t, "POST", "/api/v1/campaigns/netflix-baby/letters", "application/json",
		`{"first_name":"Ann","last_name":"Lee","email":"a@example.org","subject":"S","body":"B","accept_privacy":true}`)
	status, _, body := a.do(t, "GET", "/api/v1/campaigns/netflix-baby", "", "")
	for _, want := range []string{`"slug":"netflix-baby"`, `"title":"Netflix is normalizing sexual exploitation of minors"`, `"subject":"Please stop production on \"Baby\""`, `"body":"I am writing`, `"count":1`} {
		if !strings.Contains(body, want) {
			t.Errorf("campaign JSON lacks %s: %s", want, body)
		}
	}
	if status != 200 {
		t.Fatal(status)
	}
	if status, _, _ := a.do(t, "GET", "/api/v1/campaigns/nope", "", ""); status != 404 {
		t.Fatalf("unknown campaign = %d", status)
	}
}

func TestHealthz(t *testing.T) {
	a := newTestApp(t)
	if status, _, body := a.do(t, "GET", "/healthz", "", ""); status != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz = %d %s", status, body)
	}
	a.store.Close()
	if status, _, _ := a.do(t, "GET", "/healthz", "", ""); status != 503 {
		t.Fatalf("healthz with the database closed = %d, want 503", status)
	}
}

// Every page renders every text from the message file: no key is missing.
func TestPagesHaveNoMissingMessages(t *testing.T) {
	a := newTestApp(t)
	bad := goodForm()
	bad.Set("email", "nope")
	pages := []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"POST", "/c/netflix-baby", bad.Encode()},
		{"GET", "/c/netflix-baby/thanks", ""},
		{"GET", "/privacy", ""},
		{"GET", "/no-such-page", ""},
	}
	for _, p := range pages {
		ct := ""
		if p.method == "POST" {
			ct = "application/x-www-form-urlencoded"
		}
		status, _, body := a.do(t, p.method, p.path, ct, p.body)
		if strings.Contains(body, "⟦") {
			i := strings.Index(body, "⟦")
			t.Errorf("%s %s (%d): a message key is missing: %s", p.method, p.path, status, body[i:min(len(body), i+60)])
		}
		if !strings.Contains(body, `<html lang="en">`) {
			t.Errorf("%s %s: no lang", p.method, p.path)
		}
	}
	if _, _, body := a.do(t, "GET", "/no-such-page", "", ""); !strings.Contains(body, "Page not found") || !strings.Contains(body, `class="site"`) {
		t.Error("404 is not the styled error page")
	}
}
