package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/confirm"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/store"
)

// exportOf decodes a privacy export.
func exportOf(t *testing.T, body string) privacy.Export {
	t.Helper()
	var exp privacy.Export
	if err := json.Unmarshal([]byte(body), &exp); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, body)
	}
	return exp
}

// held reports how many supporter records the store holds for an address.
func (e *env) held(email string) int {
	e.t.Helper()
	recs, err := e.store.SupporterRecords(context.Background(), email, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return len(recs)
}

func TestSupporterExportInConsole(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org")
	e.sign("bob@example.org")
	e.login()
	if r := e.get("/admin/supporters"); r.status != http.StatusOK || !strings.Contains(r.body, `action="/admin/supporters/export"`) {
		t.Fatalf("supporters page: %d", r.status)
	}
	r := e.post("/admin/supporters/export", url.Values{"email": {"  ANN@Example.org "}})
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Fatalf("Content-Disposition %q, want a download", cd)
	}
	exp := exportOf(t, r.body)
	if exp.Email != "ann@example.org" || len(exp.Supporters) != 1 || exp.Supporters[0].FirstName != "Ann" ||
		len(exp.Supporters[0].Messages) != 4 || exp.Supporters[0].Messages[0].Body == "" {
		t.Fatalf("export: %+v", exp)
	}
	if strings.Contains(r.body, "bob@") {
		t.Fatal("the export holds another supporter's data")
	}
	for _, bad := range []string{"", "not an address", strings.Repeat("a", 250) + "@x.org", "a\xff@example.org"} {
		r := e.post("/admin/supporters/export", url.Values{"email": {bad}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("export of %.20q: %d, want 400 with a message", bad, r.status)
		}
	}
	if r := e.do("POST", "/admin/supporters/export", url.Values{"email": {"ann@example.org"}, "csrf": {strings.Repeat("ab", 32)}}); r.status != http.StatusForbidden {
		t.Fatalf("export with a forged CSRF token: %d", r.status)
	}
}

func TestSupporterEraseInConsoleNeedsTheAddressTwice(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org")
	e.sign("bob@example.org")
	e.login()
	before, _ := e.store.StatusCounts(context.Background(), e.camp.Slug)

	// Step one only asks again.
	r := e.post("/admin/supporters/erase", url.Values{"email": {"Ann@example.org"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="confirm_email"`) || !strings.Contains(r.body, "ann@example.org") {
		t.Fatalf("first step: %d %s", r.status, r.body)
	}
	steps := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"different address", url.Values{"email": {"ann@example.org"}, "confirm_email": {"bob@example.org"}}, http.StatusBadRequest},
		{"empty repeat", url.Values{"email": {"ann@example.org"}, "confirm_email": {""}}, http.StatusBadRequest},
		{"two repeats", url.Values{"email": {"ann@example.org"}, "confirm_email": {"ann@example.org", "ann@example.org"}}, http.StatusBadRequest},
		{"bad address", url.Values{"email": {"<script>"}, "confirm_email": {"<script>"}}, http.StatusBadRequest},
	}
	for _, s := range steps {
		if r := e.post("/admin/supporters/erase", s.form); r.status != s.status {
			t.Fatalf("%s: %d, want %d", s.name, r.status, s.status)
		}
		if e.held("ann@example.org") != 1 {
			t.Fatalf("%s erased the supporter", s.name)
		}
	}
	if r := e.do("POST", "/admin/supporters/erase", url.Values{"email": {"ann@example.org"}, "confirm_email": {"ann@example.org"},
		"csrf": {strings.Repeat("ab", 32)}}); r.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", r.status)
	}
	if e.held("ann@example.org") != 1 {
		t.Fatal("a forged form erased the supporter")
	}

	r = e.post("/admin/supporters/erase", url.Values{"email": {"ann@example.org"}, "confirm_email": {" ANN@example.org"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/supporters?ok=erased" {
		t.Fatalf("erase: %d %s", r.status, r.header.Get("Location"))
	}
	if e.held("ann@example.org") != 0 || e.held("bob@example.org") != 1 {
		t.Fatal("erase took the wrong supporter")
	}
	var n int
	if err := e.rawDB().QueryRow(`SELECT COUNT(*) FROM supporters WHERE email LIKE '%ann%' OR (first_name <> '' AND email <> 'bob@example.org')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d supporter rows still hold ann's data", n)
	}
	// Counts stay (her queued messages are now cancelled, none vanish).
	after, _ := e.store.StatusCounts(context.Background(), e.camp.Slug)
	if sum(after) != sum(before) || after["cancelled"] != 4 {
		t.Fatalf("counts before %v, after %v", before, after)
	}
	if r := e.get("/admin/supporters?ok=erased"); !strings.Contains(r.body, "Erased") {
		t.Fatal("no confirmation shown after erasing")
	}
	// Nothing held: said so.
	r = e.post("/admin/supporters/erase", url.Values{"email": {"nobody@example.org"}, "confirm_email": {"nobody@example.org"}})
	if r.header.Get("Location") != "/admin/supporters?ok=noneerased" {
		t.Fatalf("erase of an unknown address: %d %s", r.status, r.header.Get("Location"))
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestSupporterAPI(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org")
	auth := []string{"Authorization", "Bearer " + testToken}
	jsonReq := func(body string, header ...string) resp {
		t.Helper()
		req, _ := http.NewRequest("POST", e.http.URL+"/admin/api/supporters/erase", strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{res.StatusCode, res.Header, string(b)}
	}

	// The token is required for both.
	if r := e.do("GET", "/admin/api/supporters/export?email=ann@example.org", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("export without token: %d", r.status)
	}
	if r := jsonReq(`{"email":"ann@example.org"}`, "Content-Type", "application/json"); r.status != http.StatusUnauthorized {
		t.Fatalf("erase without token: %d", r.status)
	}

	r := e.do("GET", "/admin/api/supporters/export?email="+url.QueryEscape(" Ann@example.org"), nil, auth...)
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	if exp := exportOf(t, r.body); len(exp.Supporters) != 1 || len(exp.Supporters[0].Messages) != 4 {
		t.Fatalf("export: %+v", exp)
	}
	for _, q := range []string{"", "email=", "email=nope", "email=" + strings.Repeat("a", 300) + "%40x.org", "email=a%FF%40x.org", "email=a%0D%0Ab%40x.org"} {
		r := e.do("GET", "/admin/api/supporters/export?"+q, nil, auth...)
		var msg map[string]string
		if r.status != http.StatusBadRequest || json.Unmarshal([]byte(r.body), &msg) != nil || msg["error"] == "" {
			t.Errorf("export ?%.30s: %d %s", q, r.status, r.body)
		}
	}

	ct := []string{"Content-Type", "application/json", auth[0], auth[1]}
	for _, c := range []struct {
		name, body string
		header     []string
		status     int
	}{
		{"form body", "email=ann@example.org", []string{"Content-Type", "application/x-www-form-urlencoded", auth[0], auth[1]}, http.StatusUnsupportedMediaType},
		{"not JSON", `email`, ct, http.StatusBadRequest},
		{"unknown field", `{"email":"ann@example.org","all":true}`, ct, http.StatusBadRequest},
		{"two objects", `{"email":"ann@example.org"}{"email":"bob@example.org"}`, ct, http.StatusBadRequest},
		{"no address", `{}`, ct, http.StatusBadRequest},
		{"huge", `{"email":"` + strings.Repeat("a", 10000) + `@x.org"}`, ct, http.StatusBadRequest},
	} {
		if r := jsonReq(c.body, c.header...); r.status != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.name, r.status, c.status, r.body)
		}
	}
	if e.held("ann@example.org") != 1 {
		t.Fatal("a refused request erased the supporter")
	}
	r = jsonReq(`{"email":"ANN@example.org"}`, ct...)
	var got struct {
		Email  string `json:"email"`
		Erased int    `json:"erased"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &got) != nil || got.Erased != 1 || got.Email != "ann@example.org" {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	if e.held("ann@example.org") != 0 {
		t.Fatal("not erased")
	}
	r = e.do("GET", "/admin/api/supporters/export?email=ann@example.org", nil, auth...)
	if exp := exportOf(t, r.body); r.status != http.StatusOK || len(exp.Supporters) != 0 {
		t.Fatalf("export after erase: %d %s", r.status, r.body)
	}
}

func TestDashboardShowsDryRunConfirmationLinks(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var conf *confirm.Service
	e := newEnv(t, func(d *Deps) {
		conf = &confirm.Service{Store: d.Store.(*store.Store), Mailer: delivery.NewDryRun(quiet), Secret: []byte("k"), TTL: time.Hour,
			BaseURL: "http://outcry.test", Limiter: rate.NewLimiter(rate.Inf, 1), Logger: quiet}
		d.Confirm = conf
	})
	e.login()
	if r := e.get("/admin"); strings.Contains(r.body, "Confirmation links") {
		t.Fatal("links section shown with no link")
	}
	e.letters.Confirm = conf
	e.sign("ann@example.org")
	links := conf.DryRunLinks()
	if len(links) != 1 {
		t.Fatalf("%d dry-run links", len(links))
	}
	r := e.get("/admin")
	href := strings.ReplaceAll(links[0].Link, "&", "&amp;")
	if !strings.Contains(r.body, "Confirmation links (dry-run)") || !strings.Contains(r.body, `href="`+href+`"`) {
		t.Fatalf("dashboard lacks the link %s", links[0].Link)
	}
	if strings.Contains(r.body, "ann@example.org") {
		t.Fatal("the dashboard shows the supporter's address")
	}
}
