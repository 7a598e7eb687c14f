package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/app/apptest"
	"github.com/outcry/outcry/internal/openapi/oatest"
	"github.com/outcry/outcry/internal/target"
)

const token = "test-admin-token-0123456789"

// start runs the whole service with the console's token and no
// submission limit (many tests post from one address), over vars.
func start(t *testing.T, vars map[string]string) (*app.App, string) {
	t.Helper()
	all := map[string]string{"OUTCRY_ADMIN_TOKEN": token, "OUTCRY_SUBMIT_RATE": "0"}
	for k, v := range vars {
		all[k] = v
	}
	return apptest.Start(t, all)
}

type answer struct {
	status int
	body   string
}

func call(t *testing.T, method, url, ctype, body string, bearer bool) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin") // as a browser sends the campaign form
	if bearer {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// Every answer of /api/v1 and /admin/api is checked against the
	// OpenAPI document.
	resp, err := oatest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

func letterJSON(email string) string {
	return fmt.Sprintf(`{"first_name":"Ann","last_name":"Lee","email":%q,"subject":"Stop","body":"Please stop.","accept_privacy":true}`, email)
}

const secondCampaign = `{"slug":"save-the-park","title":"Save the park","summary":"Keep the park green.",
	"story":"The council wants to sell the park.\n\nWrite to them.","subject":"Keep the park","body":"Please keep the park.",
	"targets":["ted-sarandos","bela-bajaria"],"goal":500}`

// TestTwoCampaignsSideBySide runs two campaigns in one outcry: one address
// writes to both; each letter reaches only its own campaign's targets; a
// target both campaigns write to never gets more than its hourly cap from
// the two together; closing one leaves the other working, and the closed
// one's form and API answer 410.
func TestTwoCampaignsSideBySide(t *testing.T) {
	const capPerHour = 3
	// individual: every slot of the cap goes to a single letter (overflow,
	// the default, keeps a slot per campaign for its digest).
	a, base := start(t, map[string]string{"OUTCRY_TARGET_HOURLY_CAP": fmt.Sprint(capPerHour), "OUTCRY_SEND_RATE": "0",
		"OUTCRY_SPREAD":   "off", // the capped emails are counted within seconds
		"OUTCRY_DELIVERY": "individual"})
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", secondCampaign, true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	// Both serve at once, and the list shows both.
	for _, slug := range []string{"netflix-baby", "save-the-park"} {
		if r := call(t, "GET", base+"/c/"+slug, "", "", false); r.status != 200 {
			t.Fatalf("/c/%s: %d", slug, r.status)
		}
	}
	var list struct {
		Campaigns []struct{ Slug, Status string }
	}
	r := call(t, "GET", base+"/api/v1/campaigns", "", "", false)
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list.Campaigns) != 2 {
		t.Fatalf("campaign list: %s", r.body)
	}
	if r := call(t, "GET", base+"/", "", "", false); r.status != 200 || !strings.Contains(r.body, `href="/c/save-the-park"`) ||
		!strings.Contains(r.body, `href="/c/netflix-baby"`) {
		t.Fatalf("home page does not list both campaigns: %d", r.status)
	}

	// The same address writes to both: two supporters, two letters.
	for _, slug := range []string{"netflix-baby", "save-the-park"} {
		for i := range 5 {
			email := fmt.Sprintf("w%d@example.org", i)
			if r := call(t, "POST", base+"/api/v1/campaigns/"+slug+"/letters", "application/json", letterJSON(email), false); r.status != 202 {
				t.Fatalf("%s letter %d: %d %s", slug, i, r.status, r.body)
			}
		}
	}
	ctx := context.Background()
	for slug, want := range map[string]int{"netflix-baby": 5, "save-the-park": 5} {
		if n, _ := a.Store.SupporterCount(ctx, slug); n != want {
			t.Fatalf("%s: %d supporters, want %d", slug, n, want)
		}
	}
	// Each letter goes to its own campaign's targets only.
	perTarget, err := a.Store.TargetStatusCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := func(id string) int {
		n := 0
		for _, c := range perTarget[id] {
			n += c
		}
		return n
	}
	for id, want := range map[string]int{"ted-sarandos": 10, "bela-bajaria": 10, "greg-peters": 5, "reed-hastings": 5} {
		if got := total(id); got != want {
			t.Errorf("%s has %d messages, want %d (5 per campaign writing to it)", id, got, want)
		}
	}

	// The sender sends up to the cap per target, counting both campaigns.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sent, _ := a.Store.RecentSends(ctx, time.Now().Add(-time.Hour))
		if len(sent["ted-sarandos"]) == capPerHour && len(sent["bela-bajaria"]) == capPerHour &&
			len(sent["greg-peters"]) == capPerHour && len(sent["reed-hastings"]) == capPerHour {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent in the hour: %v", sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a sender over the cap would have sent more by now
	sent, _ := a.Store.RecentSends(ctx, time.Now().Add(-time.Hour))
	for id, ts := range sent {
		if len(ts) > capPerHour {
			t.Errorf("%s received %d emails in an hour, over its cap of %d", id, len(ts), capPerHour)
		}
	}

	// Closing one campaign leaves the other working.
	if r := call(t, "PATCH", base+"/admin/api/campaigns/save-the-park", "application/json", `{"status":"closed"}`, true); r.status != 200 ||
		!strings.Contains(r.body, `"status":"closed"`) {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", letterJSON("late@example.org"), false); r.status != http.StatusGone ||
		!strings.Contains(r.body, "ended") {
		t.Fatalf("API letter to a closed campaign: %d %s", r.status, r.body)
	}
	form := url.Values{"first_name": {"Ann"}, "last_name": {"Lee"}, "email": {"late@example.org"}, "subject": {"S"},
		"body": {"My letter to a closed campaign."}, "accept_privacy": {"true"}}
	r = call(t, "POST", base+"/c/save-the-park", "application/x-www-form-urlencoded", form.Encode(), false)
	if r.status != http.StatusGone || !strings.Contains(r.body, "This campaign has ended") || strings.Contains(r.body, `<form method="post" action="/c/save-the-park"`) ||
		!strings.Contains(r.body, "My letter to a closed campaign.") {
		t.Fatalf("form to a closed campaign: %d (want 410, the ended page without the form, the letter kept)", r.status)
	}
	if r := call(t, "GET", base+"/c/save-the-park", "", "", false); r.status != 200 || !strings.Contains(r.body, "This campaign has ended") ||
		strings.Contains(r.body, `name="first_name"`) {
		t.Fatalf("closed campaign page: %d", r.status)
	}
	if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON("still@example.org"), false); r.status != 202 {
		t.Fatalf("the open campaign after closing the other: %d", r.status)
	}
	r = call(t, "GET", base+"/api/v1/campaigns", "", "", false)
	if strings.Contains(r.body, "save-the-park") || !strings.Contains(r.body, "netflix-baby") {
		t.Fatalf("campaign list after closing: %s", r.body)
	}
	r = call(t, "GET", base+"/api/v1/campaigns/save-the-park", "", "", false)
	if r.status != 200 || !strings.Contains(r.body, `"status":"closed"`) {
		t.Fatalf("closed campaign in the API: %d %s", r.status, r.body)
	}
}

// TestPausedCampaignQueuesAndSendsNothing: a paused campaign takes letters
// and queues them; nothing of it is sent until it opens again.
func TestPausedCampaignQueuesAndSendsNothing(t *testing.T) {
	a, base := start(t, map[string]string{"OUTCRY_SEND_RATE": "0"})
	if r := call(t, "PATCH", base+"/admin/api/campaigns/netflix-baby", "application/json", `{"status":"paused"}`, true); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON("p@example.org"), false); r.status != 202 {
		t.Fatalf("letter to a paused campaign: %d", r.status)
	}
	ctx := context.Background()
	time.Sleep(700 * time.Millisecond) // longer than the sender's idle poll
	if c, _ := a.Store.StatusCounts(ctx, "netflix-baby"); c["queued"] != 4 || c["sent"] != 0 {
		t.Fatalf("paused campaign: %v, want 4 queued and none sent", c)
	}
	if r := call(t, "PATCH", base+"/admin/api/campaigns/netflix-baby", "application/json", `{"status":"open"}`, true); r.status != 200 {
		t.Fatalf("open: %d", r.status)
	}
	a.Sender.Notify()
	deadline := time.Now().Add(20 * time.Second)
	for c, _ := a.Store.StatusCounts(ctx, "netflix-baby"); c["sent"] != 4; c, _ = a.Store.StatusCounts(ctx, "netflix-baby") {
		if time.Now().After(deadline) {
			t.Fatalf("after opening again: %v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAdminCampaignsAPI checks the admin API's answers and errors.
func TestAdminCampaignsAPI(t *testing.T) {
	_, base := start(t, nil)
	api := base + "/admin/api/campaigns"
	if r := call(t, "GET", api, "", "", false); r.status != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", r.status)
	}
	r := call(t, "GET", api, "", "", true)
	var list struct {
		Campaigns []struct {
			Slug, Title, Status string
			Targets             []string
			Count               int
		}
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list.Campaigns) != 1 || list.Campaigns[0].Slug != "netflix-baby" ||
		list.Campaigns[0].Status != "open" || list.Campaigns[0].Targets == nil {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", api, "application/json", secondCampaign, true); r.status != http.StatusCreated ||
		!strings.Contains(r.body, `"slug":"save-the-park"`) || !strings.Contains(r.body, `"targets":["ted-sarandos","bela-bajaria"]`) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", api, "application/json", secondCampaign, true); r.status != http.StatusConflict {
		t.Fatalf("create again: %d %s", r.status, r.body)
	}
	for name, tc := range map[string]struct{ body, field string }{
		"bad slug":       {`{"slug":"Bad Slug","title":"t","story":"s","subject":"s","body":"b"}`, "slug"},
		"long slug":      {`{"slug":"` + strings.Repeat("a", 65) + `","title":"t","story":"s","subject":"s","body":"b"}`, "slug"},
		"no title":       {`{"slug":"x","story":"s","subject":"s","body":"b"}`, "title"},
		"unknown target": {`{"slug":"x","title":"t","story":"s","subject":"s","body":"b","targets":["nobody"]}`, "targets"},
		"negative goal":  {`{"slug":"x","title":"t","story":"s","subject":"s","body":"b","goal":-1}`, "goal"},
	} {
		r := call(t, "POST", api, "application/json", tc.body, true)
		var got struct{ Errors map[string]string }
		if r.status != http.StatusUnprocessableEntity || json.Unmarshal([]byte(r.body), &got) != nil || got.Errors[tc.field] == "" {
			t.Errorf("%s: %d %s, want 422 naming %s", name, r.status, r.body, tc.field)
		}
	}
	if r := call(t, "POST", api, "application/json", `{"slug":`, true); r.status != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d", r.status)
	}
	if r := call(t, "PATCH", api+"/nope", "application/json", `{"title":"x"}`, true); r.status != http.StatusNotFound {
		t.Errorf("patch unknown: %d", r.status)
	}
	if r := call(t, "PATCH", api+"/save-the-park", "application/json", `{"status":"archived"}`, true); r.status != http.StatusUnprocessableEntity {
		t.Errorf("patch bad status: %d %s", r.status, r.body)
	}
	r = call(t, "PATCH", api+"/save-the-park", "application/json", `{"title":"Save the old park","goal":900}`, true)
	if r.status != 200 || !strings.Contains(r.body, `"title":"Save the old park"`) || !strings.Contains(r.body, `"goal":900`) {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	// In force at once on the page.
	r = call(t, "GET", base+"/c/save-the-park", "", "", false)
	if !strings.Contains(r.body, "Save the old park") {
		t.Fatal("the edit is not on the page")
	}
	// Created without an image, it shows none (not another campaign's) and
	// its link preview is its own.
	if strings.Contains(r.body, "campaign.svg") || !strings.Contains(r.body, "/c/save-the-park/preview.png") {
		t.Error("the new campaign's page borrows an image or lacks its own preview")
	}
	// The messages API carries each message's campaign and filters by it.
	if r := call(t, "POST", base+"/api/v1/campaigns/save-the-park/letters", "application/json", letterJSON("m@example.org"), false); r.status != 202 {
		t.Fatalf("letter: %d", r.status)
	}
	r = call(t, "GET", base+"/admin/api/messages?campaign=save-the-park", "", "", true)
	if r.status != 200 || strings.Count(r.body, `"campaign":"save-the-park"`) != 2 || strings.Contains(r.body, "netflix-baby") ||
		strings.Count(r.body, `"digest_id":null`) != 2 {
		t.Fatalf("messages of one campaign: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/admin/api/messages?campaign=nope", "", "", true); r.status != http.StatusBadRequest {
		t.Errorf("messages of an unknown campaign: %d", r.status)
	}
	if r := call(t, "GET", base+"/admin/api/stats?campaign=save-the-park", "", "", true); r.status != 200 || !strings.Contains(r.body, `"supporters":1`) {
		t.Errorf("stats of one campaign: %d %s", r.status, r.body)
	}
}

// TestTargetsSharedByInstances runs two instances on one database, each
// with its own targets.yaml: the second, started on a machine without the
// file, gets the list in force (not the bundled example), and a change
// made on the first — from the console, or by hand in its file — is in
// force on the second and written to its file, through Run's watcher.
func TestTargetsSharedByInstances(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shared.db")
	a, _ := start(t, map[string]string{"OUTCRY_DB": db})
	add := func(id string) func([]target.Target) ([]target.Target, error) {
		return func(all []target.Target) ([]target.Target, error) {
			return append(all, target.Target{ID: id, Name: "N", Title: "T", Email: id + "@example.com", Salutation: "S", Active: true}), nil
		}
	}
	if err := a.Targets.Update(add("added-on-a")); err != nil {
		t.Fatal(err)
	}
	b, _ := start(t, map[string]string{"OUTCRY_DB": db})
	if a.Config.Targets == b.Config.Targets {
		t.Fatal("the two instances share one targets file")
	}
	if _, ok := b.Targets.Current().ByID("added-on-a"); !ok {
		t.Fatal("the second instance started with the bundled list, not the one in force")
	}
	if err := a.Targets.Update(add("added-later")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the console change on a in force on b and in b's file", func() bool {
		_, ok := b.Targets.Current().ByID("added-later")
		data, _ := os.ReadFile(b.Config.Targets)
		return ok && strings.Contains(string(data), "added-later")
	})
	data, err := os.ReadFile(a.Config.Targets)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.Config.Targets, []byte(strings.Replace(string(data), "id: added-later", "id: edited-by-hand", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hand edit on a in force on b", func() bool {
		_, ok := b.Targets.Current().ByID("edited-by-hand")
		return ok
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// OUTCRY_DOMAIN_HOURLY_CAP holds the bundled targets (all at example.com)
// together to the cap, and /metrics shows the domain's use of it.
func TestDomainCapAndItsMetrics(t *testing.T) {
	a, base := start(t, map[string]string{"OUTCRY_DOMAIN_HOURLY_CAP": "2", "OUTCRY_SEND_RATE": "0", "OUTCRY_SPREAD": "off"})
	for i := range 3 {
		if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON(fmt.Sprintf("d%d@example.org", i)), false); r.status != 202 {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
	}
	ctx := context.Background()
	total := func() int {
		sent, _ := a.Store.RecentSends(ctx, time.Now().Add(-time.Hour))
		n := 0
		for _, ts := range sent {
			n += len(ts)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for total() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sent, want 2", total())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a sender over the domain cap would have sent more by now
	if n := total(); n != 2 {
		t.Fatalf("%d emails to example.com in the hour, cap 2", n)
	}
	r := call(t, "GET", base+"/metrics", "", "", true)
	if !strings.Contains(r.body, `outcry_domain_hourly_sent{domain="example.com"} 2`) || !strings.Contains(r.body, "outcry_domain_hourly_cap 2") {
		t.Fatalf("/metrics has no domain use:\n%s", grepLines(r.body, "domain"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
