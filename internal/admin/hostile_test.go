package admin

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/pgtest"
)

// Issue 16, item 9: a formula at the start of any ';'-separated part is
// neutralized, for spreadsheets that split on ';'.
func TestCSVCellSemicolonParts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ann", "Ann"},
		{"=1+2", "'=1+2"},
		{"Ann;=1+2;x", "Ann;'=1+2;x"},
		{"a;+b;-c;@d", "a;'+b;'-c;'@d"},
		{"a;\tb", "a;'\tb"},
		{"x=1;y", "x=1;y"},
		{"a;;b", "a;;b"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := csvCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Issue 16, item 11: the console's CSRF token counts only in the form body
// or the X-CSRF-Token header, never in the query string.
func TestCSRFNotFromQuery(t *testing.T) {
	e := newEnv(t)
	e.login()
	if r := e.do("POST", "/admin/pause?csrf="+url.QueryEscape(e.csrf), url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("token in the query: %d", r.status)
	}
	if p, _ := e.sender.Paused(); p {
		t.Fatal("a token in the query paused sending")
	}
	if r := e.do("POST", "/admin/pause", url.Values{}, csrfHeader, e.csrf); r.status != http.StatusSeeOther {
		t.Fatalf("token in the header: %d", r.status)
	}
	if p, _ := e.sender.Paused(); !p {
		t.Fatal("a token in the header did not pause sending")
	}
	if r := e.post("/admin/resume", nil); r.status != http.StatusSeeOther {
		t.Fatalf("token in the body: %d", r.status)
	}
}

// Issue 16, item 4: a session cookie captured before logout no longer opens
// the console or changes anything after it.
func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	e.login()
	u, _ := url.Parse(e.http.URL + "/admin")
	var captured *http.Cookie
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			captured = c
		}
	}
	if captured == nil {
		t.Fatal("no session cookie")
	}
	token := e.csrf
	if r := e.post("/admin/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	e.client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: captured.Value, Path: "/admin"}})
	if r := e.get("/admin"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Fatalf("old cookie after logout: %d %s", r.status, r.header.Get("Location"))
	}
	if r := e.do("POST", "/admin/pause", url.Values{"csrf": {token}}); r.status != http.StatusForbidden {
		t.Fatalf("pause with the old cookie: %d", r.status)
	}
	if p, _ := e.sender.Paused(); p {
		t.Fatal("the old cookie paused sending")
	}
}

// Issue 16, item 4: a password change ends every session signed before it
// (the session secret unchanged, as with OUTCRY_SESSION_SECRET).
func TestPasswordChangeEndsSessions(t *testing.T) {
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	secret := []byte("a session secret that is long enough")
	old := &auth{password: "old password", secret: secret, now: now}
	value, _, _ := old.newSession()
	if _, ok := old.session(value); !ok {
		t.Fatal("a fresh session does not verify")
	}
	for name, a := range map[string]*auth{
		"new password": {password: "new password", secret: secret, now: now},
		"now a hash":   {hash: []byte("$2a$10$abcdefghijklmnopqrstuv"), secret: secret, now: now},
	} {
		if _, ok := a.session(value); ok {
			t.Errorf("%s: a session from before the change still verifies", name)
		}
	}
}

// Issue 16, item 5: a full limiter table makes room for a new address (the
// organizer's) instead of refusing it; IPv6 is counted by /64.
func TestLoginLimiterNeverLocksOutNewAddresses(t *testing.T) {
	l := newIPLimiter(time.Hour, 2)
	for i := range loginLimiterSize {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if !l.allow(ip) {
			t.Fatalf("first attempt from %s refused", ip)
		}
	}
	if !l.allow("192.0.2.1") {
		t.Fatal("a new address was refused because the table is full")
	}
	if len(l.m) > loginLimiterSize || l.order.Len() != len(l.m) {
		t.Fatalf("table holds %d (list %d), bound %d", len(l.m), l.order.Len(), loginLimiterSize)
	}
	// An address still in the table keeps its count.
	l.allow("192.0.2.1")
	if l.allow("192.0.2.1") {
		t.Fatal("third attempt with a burst of 2 allowed")
	}
	// One /64 is one client.
	l = newIPLimiter(time.Hour, 2)
	l.allow("2001:db8:1:2::1")
	l.allow("2001:db8:1:2::ffff")
	if l.allow("2001:db8:1:2:abcd::9") {
		t.Fatal("another address of the same /64 got a fresh count")
	}
	if !l.allow("2001:db8:1:3::1") {
		t.Fatal("another /64 was refused")
	}
	if !l.allow("::ffff:198.51.100.7") || clientKey("::ffff:198.51.100.7") != "198.51.100.7" {
		t.Fatal("an IPv4-mapped address is not counted as IPv4")
	}
}

// Issue 16, item 8: /metrics counts writes that failed for a storage
// reason (here: a write probe under another connection's lock).
func TestMetricsCountWriteFailures(t *testing.T) {
	pgtest.SQLiteOnly(t) // a lock on the SQLite file
	e := newEnv(t)
	r := e.do("GET", "/metrics", nil, "Authorization", "Bearer "+testToken)
	if !strings.Contains(r.body, "outcry_store_write_failures_total 0") {
		t.Fatalf("metrics lack the write failure counter:\n%s", r.body)
	}
	db, err := sql.Open("sqlite", "file:"+e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`)
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO settings (key, value, updated_at) VALUES ('lock', '', 0)`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.store.ProbeWrite(ctx); err == nil {
		t.Fatal("probe succeeded under the lock")
	}
	conn.ExecContext(context.Background(), `ROLLBACK`)
	r = e.do("GET", "/metrics", nil, "Authorization", "Bearer "+testToken)
	if !strings.Contains(r.body, "outcry_store_write_failures_total 1") {
		t.Fatalf("a failed write is not counted:\n%s", r.body)
	}
}
