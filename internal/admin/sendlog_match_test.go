package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/letter"
)

// The send log's supporter filter takes a part of a name or address
// ("grace" used to get "not an email address"), on the page, in the CSV
// and in the API; an SQL-looking search is text like any other.
func TestSendLogFindsPartOfNameOrAddress(t *testing.T) {
	e := newEnv(t)
	for _, p := range []struct{ first, last, email string }{
		{"Grace", "Hopper", "gh@navy.example"}, {"Ada", "Lovelace", "ada@example.org"}, {"Alan", "Turing", "alan.grace@example.org"},
	} {
		sub := &letter.Submission{FirstName: p.first, LastName: p.last, Email: p.email, Subject: "S", Body: "B", AcceptPrivacy: true}
		if _, err := e.letters.Sign(t.Context(), e.camp, sub); err != nil {
			t.Fatal(err)
		}
	}
	e.login()
	rows := func(body string) (out []string) {
		for _, part := range strings.Split(body, "<tr><td><a href=\"/admin/messages/")[1:] {
			cells := strings.Split(part, "<td>")
			out = append(out, strings.TrimSuffix(cells[3], "</td>"))
		}
		return out
	}
	for q, want := range map[string]int{"grace": 8, "GRACE": 8, "hopper": 4, "@navy": 4, "ada@example.org": 4, "lovelace": 4, "' OR 1=1 --": 0} {
		r := e.get("/admin/messages?email=" + url.QueryEscape(q))
		got := rows(r.body)
		if r.status != http.StatusOK || len(got) != want {
			t.Errorf("email=%q: %d, %d rows %v, want %d", q, r.status, len(got), got, want)
		}
		if !strings.Contains(r.body, `type="search"`) || !strings.Contains(r.body, `value="`+strings.ReplaceAll(q, "'", "&#39;")+`"`) {
			t.Errorf("email=%q: the search box does not keep the search", q)
		}
	}
	if r := e.get("/admin/messages.csv?email=hopper"); r.status != http.StatusOK || strings.Count(r.body, "gh@navy.example") != 4 {
		t.Errorf("CSV: %d\n%s", r.status, r.body)
	}
	r := e.do("GET", "/admin/api/messages?email=lovelace", nil, "Authorization", "Bearer "+testToken)
	var body struct{ Messages []map[string]any }
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &body) != nil || len(body.Messages) != 4 {
		t.Errorf("API: %d %s", r.status, r.body)
	}
}
