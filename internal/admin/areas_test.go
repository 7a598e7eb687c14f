package admin

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/area"
)

func withAreas(t *testing.T) opts {
	r, err := area.Open("../../examples/congress/areas.csv")
	if err != nil {
		t.Fatal(err)
	}
	return func(d *Deps) { d.Areas = r }
}

func TestConsoleAreasPage(t *testing.T) {
	e := newEnv(t, withAreas(t))
	e.login()
	page := e.get("/admin/areas")
	if page.status != 200 || !strings.Contains(page.body, "52 rows, 39 postcode keys (11 split across areas), 11 areas") ||
		!strings.Contains(page.body, `<code id="areas-version">sha256:`) {
		t.Fatalf("areas page: %d %s", page.status, page.body)
	}
	// A target gets areas and fields in the console.
	r := e.post("/admin/targets/ted-sarandos", url.Values{"name": {"Ted Sarandos"}, "title": {"Co-CEO"}, "email": {"ted@example.com"},
		"salutation": {"Mr. Sarandos"}, "active": {"1"}, "areas": {"CA-11, ZZ-9"}, "fields": {"party: Green\nchamber: lower"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit target: %d %s", r.status, r.body)
	}
	ted, _ := e.targets.Current().ByID("ted-sarandos")
	if strings.Join(ted.Areas, ",") != "CA-11,ZZ-9" || ted.Fields["party"] != "Green" {
		t.Fatalf("saved %+v", ted)
	}
	if r := e.post("/admin/targets/ted-sarandos", url.Values{"name": {"Ted Sarandos"}, "title": {"Co-CEO"}, "email": {"ted@example.com"},
		"salutation": {"Mr. Sarandos"}, "active": {"1"}, "fields": {"no colon here"}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(html.UnescapeString(r.body), `field name "no colon here"`) {
		t.Errorf("bad fields: %d %s", r.status, r.body[strings.Index(r.body, "alert"):][:300])
	}
	if got := e.get("/admin/targets").body; !strings.Contains(got, "areas: CA-11, ZZ-9") || !strings.Contains(got, "party: Green") {
		t.Error("the targets list does not show areas and fields")
	}
	// Targeting of the campaign.
	if r := e.post("/admin/areas", url.Values{"match": {"nearby"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "targeting.match") {
		t.Errorf("bad match: %d", r.status)
	}
	if r := e.post("/admin/areas", url.Values{"match": {"area"}, "min": {"1"}, "max": {"0"}, "sample": {"0"}, "fallback": {"greg-peters"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save targeting: %d %s", r.status, r.body)
	}
	body := html.UnescapeString(e.get("/admin/areas").body)
	for _, want := range []string{
		"Target ted-sarandos represents area ZZ-9, which is not in the areas file",
		"10 area(s) of the file have no active target",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no warning %q", want)
		}
	}
	// Test a postcode: what a supporter would see.
	test := html.UnescapeString(e.get("/admin/areas?postcode=94103").body)
	test = test[strings.Index(test, `id="test-h"`):strings.Index(test, `id="tg-h"`)]
	if !strings.Contains(test, "Area: CA district 11") || !strings.Contains(test, "<li>Ted Sarandos, Co-CEO <small>(ted-sarandos, CA district 11)</small></li>") ||
		strings.Contains(test, "Greg Peters, ") {
		t.Errorf("test 94103:\n%s", test)
	}
	test = html.UnescapeString(e.get("/admin/areas?postcode=99501").body)
	if !strings.Contains(test, "fallback") || !strings.Contains(test, "<li>Greg Peters") {
		t.Errorf("test 99501 (no target): fallback not shown")
	}
	test = html.UnescapeString(e.get("/admin/areas?postcode=94112").body)
	if !strings.Contains(test, "The supporter is asked to choose an area: CA district 11, CA district 15.") {
		t.Errorf("test 94112 (split)")
	}
}

func TestConsoleWarnsOfAreaMatchingWithoutAFile(t *testing.T) {
	e := newEnv(t)
	e.login()
	if r := e.post("/admin/areas", url.Values{"match": {"area"}, "min": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save targeting: %d %s", r.status, r.body)
	}
	body := html.UnescapeString(e.get("/admin/areas").body)
	if !strings.Contains(body, "matches targets by area, but there is no areas file (set OUTCRY_AREAS)") {
		t.Errorf("no warning:\n%s", body)
	}
}
