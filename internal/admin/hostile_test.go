package admin

import (
	"net/http"
	"net/url"
	"testing"
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
