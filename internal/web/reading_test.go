package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/reading"
	"github.com/outcry/outcry/internal/sendlog"
)

// A target's private reading page (issue 24): exactly their letters,
// newest first, searchable, counted by day, as CSV and printable; refused
// with a bad or revoked token; no supporter's email address on it.
func TestReadingPage(t *testing.T) {
	var links *reading.Links
	a := newTestApp(t, func(d *Deps) {
		links = &reading.Links{Store: d.Store.(readingStore), Key: []byte("test form secret"), BaseURL: d.BaseURL}
		d.Reading, d.ReadingStore = links, d.Store.(ReadingPages)
	})
	ctx := context.Background()
	const slug = "netflix-baby"
	for i, w := range []struct{ first, email, body string }{
		{"Ann", "ann.reader@example.org", "My garden has no bees and I ask you to act."},
		{"Bob", "bob.reader@example.org", "As a parent I ask you to stop this series."},
		{"Cat", "cat.reader@example.org", "=HYPERLINK(\"http://evil\") I write in my own words."},
	} {
		body := fmt.Sprintf(`{"first_name":%q,"last_name":"Lee%d","email":%q,"subject":"Stop it","body":%q,"accept_privacy":true}`,
			w.first, i, w.email, w.body)
		if st, _, resp := a.do(t, "POST", "/api/v1/campaigns/"+slug+"/letters", "application/json", body); st != 202 {
			t.Fatalf("sign: %d %s", st, resp)
		}
	}
	// Every copy is sent, except Cat's to greg-peters (still queued).
	var out []delivery.Outcome
	for _, m := range a.claim(t, 100) {
		if m.TargetID == "greg-peters" && strings.HasPrefix(m.SupporterName, "Cat") {
			out = append(out, delivery.Outcome{ID: m.ID, Status: sendlog.Queued})
			continue
		}
		out = append(out, delivery.Outcome{ID: m.ID, Status: sendlog.Sent, Attempted: true, ProviderID: fmt.Sprint("p", m.ID)})
	}
	if err := a.outbox.Finish(ctx, out); err != nil {
		t.Fatal(err)
	}

	page := func(targetID, query string) (int, string) {
		t.Helper()
		u, err := links.URL(ctx, slug, targetID)
		if err != nil || u == "" {
			t.Fatalf("link for %s: %q %v", targetID, u, err)
		}
		st, _, body := a.do(t, "GET", strings.TrimPrefix(u, "http://outcry.test")+query, "", "")
		return st, body
	}
	st, body := page("ted-sarandos", "")
	if st != 200 {
		t.Fatalf("reading page: %d", st)
	}
	for _, want := range []string{"Ann", "Bob", "Cat", "3 letters in all.", "My garden has no bees", "Letters by day"} {
		if !strings.Contains(body, want) {
			t.Errorf("ted-sarandos's page lacks %q", want)
		}
	}
	if strings.Contains(body, "@example.org") || strings.Contains(body, "reader@") {
		t.Error("the reading page shows a supporter's email address")
	}
	// Newest first: Cat wrote last.
	if strings.Index(body, "Cat") > strings.Index(body, "Ann") {
		t.Error("the letters are not newest first")
	}
	// Exactly their letters: greg-peters has not been sent Cat's.
	st, body = page("greg-peters", "")
	if st != 200 || strings.Contains(body, "HYPERLINK") || !strings.Contains(body, "2 letters in all.") {
		t.Errorf("greg-peters's page (%d) shows a letter not sent to them, or misses one", st)
	}
	// Search.
	_, body = page("ted-sarandos", "?q=garden")
	if !strings.Contains(body, "My garden") || strings.Contains(body, "As a parent") {
		t.Error("search for garden does not find exactly Ann's letter")
	}
	// Printable view.
	if _, body = page("ted-sarandos", "?print=1"); !strings.Contains(body, `class="printable"`) || strings.Contains(body, `role="search"`) {
		t.Error("the printable view is not printable")
	}
	// CSV: every letter, no address, no formula.
	st, csv := page("ted-sarandos", "/letters.csv")
	if st != 200 || strings.Count(csv, "\n") != 4 || strings.Contains(csv, "@example.org") {
		t.Errorf("CSV (%d):\n%s", st, csv)
	}
	if !strings.Contains(csv, `'=HYPERLINK`) {
		t.Errorf("a formula in the CSV is not neutralized:\n%s", csv)
	}

	// Refused: a forged token, another target's token with this one's id,
	// the token of another campaign, a revoked token, a replaced one.
	good, _ := links.Token(ctx, slug, "ted-sarandos")
	for name, tok := range map[string]string{
		"garbage":         "nonsense",
		"forged":          "1~ted-sarandos.AAAA",
		"other key":       mustToken(t, &reading.Links{Store: links.Store, Key: []byte("another key")}, slug),
		"other campaign":  mustToken(t, links, "another-campaign"),
		"tampered target": strings.Replace(good, "ted-sarandos", "greg-peters", 1),
	} {
		if st, _, _ := a.do(t, "GET", reading.Path(slug, tok), "", ""); st != http.StatusNotFound {
			t.Errorf("%s token: %d, want 404", name, st)
		}
	}
	if err := links.Revoke(ctx, slug, "ted-sarandos"); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := a.do(t, "GET", reading.Path(slug, good), "", ""); st != http.StatusNotFound {
		t.Errorf("revoked token: %d, want 404", st)
	}
	if u, _ := links.URL(ctx, slug, "ted-sarandos"); u != "" {
		t.Errorf("a revoked link is still given out: %s", u)
	}
	fresh, err := links.Reissue(ctx, slug, "ted-sarandos")
	if err != nil {
		t.Fatal(err)
	}
	if st, _, _ := a.do(t, "GET", reading.Path(slug, good), "", ""); st != http.StatusNotFound {
		t.Errorf("replaced token: %d, want 404", st)
	}
	u, _ := url.Parse(fresh)
	if st, _, _ := a.do(t, "GET", u.Path, "", ""); st != 200 {
		t.Errorf("reissued link: %d, want 200", st)
	}
}

type readingStore = reading.Store

func mustToken(t *testing.T, l *reading.Links, campaign string) string {
	t.Helper()
	tok, err := l.Token(context.Background(), campaign, "ted-sarandos")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
