package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/store"
)

// startCongress runs the bundled second example (examples/congress): a
// campaign whose letters go to the representative of the supporter's ZIP
// code, over copies of its files.
func startCongress(t *testing.T) (*app.App, string, string) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"campaign.yaml", "targets.yaml", "areas.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "congress", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, base := start(t, map[string]string{
		"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"),
		"OUTCRY_TARGETS":  filepath.Join(dir, "targets.yaml"),
		"OUTCRY_AREAS":    filepath.Join(dir, "areas.csv"),
	})
	return a, base, filepath.Join(dir, "areas.csv")
}

func areaLetter(email, postcode, area string, targets ...string) string {
	m := map[string]any{"first_name": "Ann", "last_name": "Lee", "email": email, "postcode": postcode,
		"subject": "Libraries", "body": "Please keep them open.", "accept_privacy": true}
	if area != "" {
		m["area"] = area
	}
	if targets != nil {
		m["targets"] = targets
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type accepted struct {
	Status  string            `json:"status"`
	Targets []string          `json:"targets"`
	Errors  map[string]string `json:"errors"`
}

func sign(t *testing.T, base, slug, body string) (int, accepted) {
	t.Helper()
	r := call(t, "POST", base+"/api/v1/campaigns/"+slug+"/letters", "application/json", body, false)
	var a accepted
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	return r.status, a
}

func messagesOf(t *testing.T, a *app.App, email string) []store.MessageRow {
	t.Helper()
	rows, err := a.Store.Messages(context.Background(), store.MessageFilter{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestAreaTargetingEndToEnd(t *testing.T) {
	a, base, _ := startCongress(t)
	version := a.Areas.Current().Version.String()

	t.Run("matched to one representative", func(t *testing.T) {
		status, ans := sign(t, base, "fund-libraries", areaLetter("one@example.org", "94103", ""))
		if status != http.StatusAccepted || !slices.Equal(ans.Targets, []string{"rep-ca-11"}) {
			t.Fatalf("%d %+v", status, ans)
		}
		msgs := messagesOf(t, a, "one@example.org")
		if len(msgs) != 1 || msgs[0].TargetID != "rep-ca-11" || msgs[0].Area != "CA-11" || msgs[0].AreasVersion != version {
			t.Fatalf("messages %+v, want one to rep-ca-11 in CA-11 with version %q", msgs, version)
		}
		// A ZIP+4 finds its ZIP.
		if _, ans := sign(t, base, "fund-libraries", areaLetter("plus4@example.org", "94103-1234", "")); !slices.Equal(ans.Targets, []string{"rep-ca-11"}) {
			t.Errorf("ZIP+4: %+v", ans)
		}
	})
	t.Run("nobody matched: the fallback", func(t *testing.T) {
		status, ans := sign(t, base, "fund-libraries", areaLetter("far@example.org", "10001", ""))
		if status != http.StatusAccepted || !slices.Equal(ans.Targets, []string{"house-clerk"}) {
			t.Fatalf("%d %+v", status, ans)
		}
		r := call(t, "GET", base+"/api/v1/campaigns/fund-libraries/targets?postcode=10001", "", "", false)
		if r.status != 200 || !strings.Contains(r.body, `"fallback":true`) {
			t.Errorf("lookup: %d %s", r.status, r.body)
		}
	})
	t.Run("split postcode: the area is required", func(t *testing.T) {
		r := call(t, "GET", base+"/api/v1/campaigns/fund-libraries/targets?postcode=94112", "", "", false)
		var look struct {
			Areas []struct{ Code, Name string }
			Split bool
		}
		json.Unmarshal([]byte(r.body), &look)
		if r.status != 200 || !look.Split || len(look.Areas) != 2 || look.Areas[0].Code != "CA-11" || look.Areas[1].Code != "CA-15" {
			t.Fatalf("lookup: %d %s", r.status, r.body)
		}
		status, ans := sign(t, base, "fund-libraries", areaLetter("split@example.org", "94112", ""))
		if status != http.StatusUnprocessableEntity || ans.Errors["area"] == "" {
			t.Fatalf("no area: %d %+v", status, ans)
		}
		if len(messagesOf(t, a, "split@example.org")) != 0 {
			t.Fatal("a refused letter was stored")
		}
		status, ans = sign(t, base, "fund-libraries", areaLetter("split@example.org", "94112", "CA-42"))
		if status != http.StatusUnprocessableEntity || ans.Errors["area"] == "" {
			t.Fatalf("an area not of the postcode: %d %+v", status, ans)
		}
		status, ans = sign(t, base, "fund-libraries", areaLetter("split@example.org", "94112", "CA-15"))
		if status != http.StatusAccepted || !slices.Equal(ans.Targets, []string{"rep-ca-15"}) {
			t.Fatalf("with area: %d %+v", status, ans)
		}
		if m := messagesOf(t, a, "split@example.org"); len(m) != 1 || m[0].Area != "CA-15" {
			t.Errorf("messages %+v", m)
		}
	})
	t.Run("bad postcode: 422 naming postcode", func(t *testing.T) {
		for _, pc := range []string{"", "94<103>"} {
			r := call(t, "GET", base+"/api/v1/campaigns/fund-libraries/targets?postcode="+pc, "", "", false)
			if r.status != 422 || !strings.Contains(r.body, `"postcode"`) {
				t.Errorf("%q: %d %s", pc, r.status, r.body)
			}
		}
	})
	t.Run("letter version by a target's field", func(t *testing.T) {
		r := call(t, "GET", base+"/api/v1/campaigns/fund-libraries/targets?postcode=94103", "", "", false)
		if !strings.Contains(r.body, "Thank you for supporting public libraries") {
			t.Errorf("CA-11 (stance: supporter): %s", r.body)
		}
		r = call(t, "GET", base+"/api/v1/campaigns/fund-libraries/targets?postcode=99501", "", "", false)
		if !strings.Contains(r.body, "Please protect funding for public libraries") || !strings.Contains(r.body, `"area":"AK-AL"`) {
			t.Errorf("AK-AL: %s", r.body)
		}
	})
	t.Run("the campaign API shows targeting", func(t *testing.T) {
		r := call(t, "GET", base+"/api/v1/campaigns/fund-libraries", "", "", false)
		if !strings.Contains(r.body, `"targeting":{"match":"area","choose":false,"min":1,"max":0,"sample":0,"fallback":["house-clerk"]}`) {
			t.Errorf("%s", r.body)
		}
	})
}

func TestAreaTargetingRefusalChooseAndSample(t *testing.T) {
	a, base, _ := startCongress(t)
	// Created through the console's API: no fallback.
	create := func(slug, targeting string, targets string) {
		body := fmt.Sprintf(`{"slug":%q,"title":"T","story":"S","subject":"S","body":"B","targets":%s,"targeting":%s}`, slug, targets, targeting)
		if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", body, true); r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", slug, r.status, r.body)
		}
	}
	create("no-fallback", `{"match":"area"}`, `[]`)
	status, ans := sign(t, base, "no-fallback", areaLetter("x@example.org", "10001", ""))
	if status != 422 || !strings.Contains(ans.Errors["postcode"], "could not find") {
		t.Fatalf("unmatched without fallback: %d %+v", status, ans)
	}
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json",
		`{"slug":"both","title":"T","story":"S","subject":"S","body":"B","targeting":{"choose":true,"sample":2}}`, true); r.status != 422 ||
		!strings.Contains(r.body, "targeting.sample") {
		t.Errorf("choose with sample: %d %s", r.status, r.body)
	}

	create("pick-two", `{"match":"all","choose":true,"min":1,"max":2}`, `["rep-ca-11","rep-ca-15","rep-ca-30"]`)
	for _, tc := range []struct {
		chosen []string
		status int
	}{
		{[]string{}, 422},
		{[]string{"rep-ca-11", "rep-ca-15", "rep-ca-30"}, 422},
		{[]string{"rep-ak-al"}, 422}, // not a target of this campaign
		{[]string{"rep-ca-30", "rep-ca-11"}, 202},
	} {
		status, ans := sign(t, base, "pick-two", areaLetter(fmt.Sprintf("c%d@example.org", len(tc.chosen)), "", "", tc.chosen...))
		if status != tc.status || status == 422 && ans.Errors["targets"] == "" {
			t.Errorf("%v: %d %+v", tc.chosen, status, ans)
		}
		if status == 202 && !slices.Equal(ans.Targets, []string{"rep-ca-11", "rep-ca-30"}) {
			t.Errorf("%v: targets %v", tc.chosen, ans.Targets)
		}
	}
	// PATCH keeps the interface: the whole targeting object.
	if r := call(t, "PATCH", base+"/admin/api/campaigns/pick-two", "application/json", `{"targeting":{"match":"all","sample":1}}`, true); r.status != 200 ||
		!strings.Contains(r.body, `"sample":1`) {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	draws := map[string]bool{}
	for i := range 12 {
		email := fmt.Sprintf("draw%d@example.org", i)
		_, first := sign(t, base, "pick-two", areaLetter(email, "", ""))
		_, again := sign(t, base, "pick-two", areaLetter(strings.ToUpper(email), "", "")) // the same supporter
		if len(first.Targets) != 1 || !slices.Equal(first.Targets, again.Targets) {
			t.Fatalf("%s drew %v, then %v", email, first.Targets, again.Targets)
		}
		msgs := messagesOf(t, a, email)
		if len(msgs) != 1 || msgs[0].TargetID != first.Targets[0] {
			t.Fatalf("%s: messages %+v, answer %v", email, msgs, first.Targets)
		}
		draws[first.Targets[0]] = true
	}
	if len(draws) < 2 {
		t.Errorf("12 supporters all drew %v", draws)
	}
}

// TestAreasReloadDuringLetters rewrites the areas file while letters come
// in: each message's area and target agree with the version it records,
// and no letter is lost. Then a malformed file is refused with its line and
// the version in force stays.
func TestAreasReloadDuringLetters(t *testing.T) {
	a, base, path := startCongress(t)
	v1 := a.Areas.Current().Version.String()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Version 2: 94103 moves from CA-11 to CA-15.
	moved := strings.Replace(string(old), "94103,CA-11,CA district 11", "94103,CA-15,CA district 15", 1)
	if moved == string(old) {
		t.Fatal("the example's areas file no longer has 94103 in CA-11")
	}
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, ans := sign(t, base, "fund-libraries", areaLetter(fmt.Sprintf("r%d@example.org", i), "94103", ""))
			if status != http.StatusAccepted || len(ans.Targets) != 1 {
				errs <- fmt.Sprintf("letter %d: %d %+v", i, status, ans)
			}
		}()
		if i == n/2 {
			if err := os.WriteFile(path, []byte(moved), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := a.Areas.Reload(); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	v2 := a.Areas.Current().Version.String()
	if v2 == v1 {
		t.Fatal("the version did not change")
	}
	want := map[string][2]string{v1: {"CA-11", "rep-ca-11"}, v2: {"CA-15", "rep-ca-15"}}
	seen := map[string]int{}
	for i := range n {
		msgs := messagesOf(t, a, fmt.Sprintf("r%d@example.org", i))
		if len(msgs) != 1 {
			t.Fatalf("letter %d: %d messages", i, len(msgs))
		}
		m := msgs[0]
		w, ok := want[m.AreasVersion]
		if !ok || m.Area != w[0] || m.TargetID != w[1] {
			t.Errorf("letter %d: area %s, target %s under version %q", i, m.Area, m.TargetID, m.AreasVersion)
		}
		seen[m.AreasVersion]++
	}
	if seen[v2] == 0 {
		t.Errorf("no letter under the new version: %v", seen)
	}

	// A malformed file: refused with its line, the version in force stays.
	bad := moved + "99999,,\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(bad, "\n")
	err = a.Areas.Reload()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(":%d: area is empty", lines)) {
		t.Fatalf("malformed file: %v, want its line %d", err, lines)
	}
	if got := a.Areas.Current().Version.String(); got != v2 {
		t.Errorf("version in force %q after a refused file, want %q", got, v2)
	}
	if _, ans := sign(t, base, "fund-libraries", areaLetter("after@example.org", "94103", "")); !slices.Equal(ans.Targets, []string{"rep-ca-15"}) {
		t.Errorf("after the refused file: %+v", ans)
	}
}
