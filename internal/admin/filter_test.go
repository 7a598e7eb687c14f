package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/store"
)

// hostileQueries are send log filters that must be refused with 400 and a
// message, never a 500 (issue 5: hostile input).
var hostileQueries = []struct {
	name, query, field string
}{
	{"unknown status", "status=bogus", "status"},
	{"status SQL", "status=" + url.QueryEscape("queued' OR '1'='1"), "status"},
	{"status huge", "status=" + strings.Repeat("q", 1<<16), "status"},
	{"status invalid UTF-8", "status=%FF%FE", "status"},
	{"target SQL", "target=" + url.QueryEscape("x'; DROP TABLE messages; --"), "target"},
	{"target upper case", "target=Ted", "target"},
	{"target huge", "target=" + strings.Repeat("a", 100_000), "target"},
	{"target invalid UTF-8", "target=ted%C3%28", "target"},
	{"target newline", "target=ted%0Asarandos", "target"},
	{"from words", "from=yesterday", "from"},
	{"from huge", "from=" + strings.Repeat("2026-01-01", 10_000), "from"},
	{"from year 1", "from=0001-01-01", "from"},
	{"from negative", "from=-2026-01-01", "from"},
	{"to bad month", "to=2026-13-01", "to"},
	{"to invalid UTF-8", "to=2026-01-0%FF", "to"},
	{"to before from", "from=2026-02-01&to=2026-01-01", "to"},
	{"email huge", "email=" + strings.Repeat("a", 300) + "%40example.org", "email"},
	{"email only spaces", "email=%20%20", "email"},
	{"email tab", "email=ann%09lee", "email"},
	{"email invalid UTF-8", "email=a%FF%40example.org", "email"},
	{"email CRLF", "email=a%0D%0ABcc%3Ab%40example.org", "email"},
	{"cursor words", "before=abc", "before"},
	{"cursor trailing junk", "before=12abc", "before"},
	{"cursor zero", "before=0", "before"},
	{"cursor negative", "before=-5", "before"},
	{"cursor overflow", "before=99999999999999999999999", "before"},
	{"cursor float", "before=1.5", "before"},
	{"cursor plus", "before=+5", "before"},
	{"cursor huge", "before=" + strings.Repeat("9", 100_000), "before"},
}

func TestHostileSendLogQueriesAreRefused(t *testing.T) {
	e := newEnv(t)
	e.sign("ann@example.org")
	e.login()
	auth := []string{"Authorization", "Bearer " + testToken}
	for _, c := range hostileQueries {
		t.Run(c.name, func(t *testing.T) {
			// Browser page: 400 with the message in the page.
			r := e.get("/admin/messages?" + c.query)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "The filter is not valid") ||
				!strings.Contains(r.body, c.field+": ") {
				t.Fatalf("page: %d, want 400 naming %s", r.status, c.field)
			}
			if len(r.body) > 64<<10 {
				t.Fatalf("page echoes the hostile value: %d bytes", len(r.body))
			}
			// CSV export: 400 with a message.
			if c.field != "before" {
				if r := e.get("/admin/messages.csv?" + c.query); r.status != http.StatusBadRequest || !strings.Contains(r.body, c.field+": ") {
					t.Fatalf("csv: %d %.200s", r.status, r.body)
				}
			}
			// JSON API: the cursor is called after there.
			q := strings.Replace(c.query, "before=", "after=", 1)
			field := c.field
			if field == "before" {
				field = "after"
			}
			r = e.do("GET", "/admin/api/messages?"+q, nil, auth...)
			var body struct {
				Errors map[string]string `json:"errors"`
			}
			if r.status != http.StatusBadRequest || json.Unmarshal([]byte(r.body), &body) != nil || body.Errors[field] == "" {
				t.Fatalf("api: %d %.300s, want 400 naming %s", r.status, r.body, field)
			}
		})
	}
	// The API's page size is bounded too.
	for _, l := range []string{"0", "-1", "1001", "99999999999999999999", "ten", "1e3"} {
		if r := e.do("GET", "/admin/api/messages?limit="+l, nil, auth...); r.status != http.StatusBadRequest {
			t.Errorf("limit=%s: %d", l, r.status)
		}
	}
	// A target action on an id that is not one changes nothing.
	if r := e.post("/admin/targets/"+url.PathEscape("x'--")+"/pause", nil); r.status != http.StatusNotFound {
		t.Fatalf("pause of a malformed target id: %d", r.status)
	}
	if states, _ := e.store.TargetStates(t.Context()); len(states) != 0 {
		t.Fatalf("a malformed id created target state: %v", states)
	}
	// Good values still work.
	for _, q := range []string{"status=queued", "target=ted-sarandos", "from=2026-01-01&to=2026-01-01",
		"from=2026-01-01T00:00:00Z", "email=ann%40example.org", "before=9223372036854775807"} {
		if r := e.get("/admin/messages?" + q); r.status != http.StatusOK {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}

// FuzzParseFilter: no query string makes the filter parser panic, accept
// a value outside its bounds, or hand the store something unchecked.
// Seeds in testdata/fuzz/FuzzParseFilter; run with
// go test -run '^$' -fuzz FuzzParseFilter ./internal/admin.
func FuzzParseFilter(f *testing.F) {
	for _, c := range hostileQueries {
		if len(c.query) < 1000 {
			f.Add(c.query)
		}
	}
	f.Add("status=queued&target=ted-sarandos&from=2026-01-01&to=2026-01-02&email=a%40b.org&before=10")
	svc := &service{d: Deps{Campaigns: campaign.NewStatic(&campaign.Campaign{Slug: "c"})}}
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return // echo would see the same values; the parse error is not ours
		}
		in := filterInput{Campaign: "c", Status: v.Get("status"), Target: v.Get("target"), From: v.Get("from"), To: v.Get("to"),
			Email: v.Get("email"), Before: v.Get("before")}
		got, bad := svc.parseFilter(in, pageSize)
		if len(bad) > 0 {
			if got != (store.MessageFilter{}) {
				t.Fatalf("refused input still gave a filter: %+v", got)
			}
			for k, msg := range bad {
				if msg == "" || !utf8.ValidString(msg) || len(msg) > 300 { // fixed messages, never the input
					t.Fatalf("bad message for %s: %q", k, msg)
				}
			}
			_ = badList(bad)
			b := in.bounded()
			for _, s := range []string{b.Status, b.Target, b.From, b.To, b.Email, b.Before} {
				if len(s) > 254 || !utf8.ValidString(s) {
					t.Fatalf("bounded echo %q", s)
				}
			}
			return
		}
		if got.Status != "" && !contains(statuses, got.Status) {
			t.Fatalf("status %q passed", got.Status)
		}
		if len(got.Target) > 200 || strings.ContainsAny(got.Target, "' \";\n") {
			t.Fatalf("target %q passed", got.Target)
		}
		if len(got.Email) > 254 || !utf8.ValidString(got.Email) || strings.ContainsAny(got.Email, "\r\n") {
			t.Fatalf("email %q passed", got.Email)
		}
		if len(got.Match) > 254 || !utf8.ValidString(got.Match) || strings.ContainsAny(got.Match, "\r\n\t\x00") ||
			(got.Match != "" && got.Email != "") || (in.Email != "" && got.Match == "" && got.Email == "") {
			t.Fatalf("email %q gave match %q, email %q", in.Email, got.Match, got.Email)
		}
		if got.Before < 0 || (in.Before != "" && got.Before == 0) {
			t.Fatalf("cursor %d passed", got.Before)
		}
		for _, d := range []struct {
			name string
			raw  string
			y    int
		}{{"from", in.From, got.From.UTC().Year()}, {"to", in.To, got.To.UTC().Year()}} {
			if d.raw != "" && (d.y < minYear || d.y > maxYear+1) {
				t.Fatalf("%s %q gave year %d", d.name, d.raw, d.y)
			}
		}
		if got.Limit != pageSize || got.Campaign != "c" {
			t.Fatalf("limit/campaign changed: %+v", got)
		}
	})
}
