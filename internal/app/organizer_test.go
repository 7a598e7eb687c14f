package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// The second campaign's dashboard figures are its own (issue 26: it showed
// "5 active targets" where it has 2, and the first campaign's "Sent 10" per
// target beside its own "0 letters").
func TestSecondCampaignStatsAreItsOwn(t *testing.T) {
	_, base := start(t, nil)
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", secondCampaign, true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for i := range 2 {
		if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON(fmt.Sprintf("s%d@example.org", i)), false); r.status != http.StatusAccepted {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
	}
	var st struct {
		ActiveTargets int `json:"active_targets"`
		Targets       []struct {
			ID     string         `json:"id"`
			Counts map[string]int `json:"counts"`
		} `json:"targets"`
	}
	r := call(t, "GET", base+"/admin/api/stats?campaign=save-the-park", "", "", true)
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(r.status, r.body)
	}
	if st.ActiveTargets != 2 || len(st.Targets) != 2 {
		t.Fatalf("save-the-park: %d active targets, %d listed; it writes to 2: %s", st.ActiveTargets, len(st.Targets), r.body)
	}
	for _, tg := range st.Targets {
		for status, n := range tg.Counts {
			if n != 0 {
				t.Fatalf("save-the-park's target %s shows %d %s: another campaign's letters", tg.ID, n, status)
			}
		}
	}
	r = call(t, "GET", base+"/admin/api/stats?campaign=netflix-baby", "", "", true)
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(r.status, r.body)
	}
	total := 0
	for _, tg := range st.Targets {
		for _, n := range tg.Counts {
			total += n
		}
	}
	if total != 2*st.ActiveTargets || total == 0 {
		t.Fatalf("netflix-baby: %d messages over %d active targets, want 2 each: %s", total, st.ActiveTargets, r.body)
	}
}
