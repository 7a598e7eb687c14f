package admin

import (
	"context"
	"html"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/reading"
)

// personal_share in /admin/api/stats and the Letters read page (issue 24).
func TestPersonalShareAndLettersReadPage(t *testing.T) {
	var links *reading.Links
	e := newEnv(t, func(d *Deps) {
		links = &reading.Links{Store: e0(d), Key: []byte("k"), BaseURL: d.BaseURL}
		d.Reading = links
	})
	var stats Stats
	e.api("/admin/api/stats", &stats)
	if stats.PersonalShare != nil {
		t.Fatalf("personal_share = %v with no letter, want null", *stats.PersonalShare)
	}
	sign := func(email, body string) {
		t.Helper()
		sub := &letter.Submission{FirstName: "Ann", LastName: "Lee", Email: email, Subject: e.camp.Letter.Subject, Body: body, AcceptPrivacy: true}
		if _, err := e.letters.Sign(context.Background(), e.camp, sub); err != nil {
			t.Fatal(err)
		}
	}
	// Three keep the campaign's letter, one rewrites it.
	sign("a@example.org", e.camp.Letter.Body)
	sign("b@example.org", e.camp.Letter.Body)
	sign("c@example.org", e.camp.Letter.Body+"\nThank you.")
	sign("d@example.org", "My own words: I have three children and this series has no place on a family service.")
	e.api("/admin/api/stats", &stats)
	if stats.PersonalShare == nil || math.Abs(*stats.PersonalShare-0.25) > 1e-9 {
		t.Fatalf("personal_share = %v, want 0.25", stats.PersonalShare)
	}
	e.login()
	r := e.get("/admin/reading")
	if r.status != http.StatusOK {
		t.Fatalf("Letters read page: %d", r.status)
	}
	for _, want := range []string{"25 %", "1 of 4", html.EscapeString(e.camp.Letter.Subject), "/c/" + e.camp.Slug + "/for/", "Revoke", "Reissue"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the Letters read page lacks %q", want)
		}
	}
	// Revoke, then reissue, from the console.
	id := "ted-sarandos"
	before, _ := links.Token(context.Background(), e.camp.Slug, id)
	if r := e.post("/admin/reading/"+id+"/revoke", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if tok, _ := links.Token(context.Background(), e.camp.Slug, id); tok != "" {
		t.Fatal("the link is still given out after revoking")
	}
	if _, err := links.Check(context.Background(), e.camp.Slug, before); err == nil {
		t.Fatal("a revoked link still opens the page")
	}
	if r := e.post("/admin/reading/"+id+"/reissue", nil); r.status != http.StatusSeeOther {
		t.Fatalf("reissue: %d", r.status)
	}
	after, _ := links.Token(context.Background(), e.camp.Slug, id)
	if after == "" || after == before {
		t.Fatalf("reissued token %q (was %q)", after, before)
	}
	if got, err := links.Check(context.Background(), e.camp.Slug, after); err != nil || got != id {
		t.Fatalf("the reissued link opens %q, %v", got, err)
	}
}

// e0 is the store behind Deps as the reading links need it.
func e0(d *Deps) reading.Store { return d.Store.(reading.Store) }
