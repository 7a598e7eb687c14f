package app_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// Source codes reach /admin/api/stats (sources), /admin/api/supporters and
// the dashboard.
func TestSourcesReported(t *testing.T) {
	_, base := start(t, nil)
	s := slug(t, base)
	for i, src := range []string{"partner-a", "partner-a", "share-x", ""} {
		body := strings.Replace(letterJSON("s"+string(rune('a'+i))+"@example.org"), `"accept_privacy":true`, `"accept_privacy":true,"source":"`+src+`"`, 1)
		if r := call(t, "POST", base+"/api/v1/campaigns/"+s+"/letters", "application/json", body, false); r.status != 202 {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
	}
	r := call(t, "GET", base+"/admin/api/stats", "", "", true)
	var st struct {
		Sources []struct {
			Source string `json:"source"`
			Count  int    `json:"count"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(r.body), &st); err != nil || len(st.Sources) != 3 || st.Sources[0].Source != "partner-a" || st.Sources[0].Count != 2 {
		t.Fatalf("stats: %d %s", r.status, r.body)
	}
	r = call(t, "GET", base+"/admin/api/supporters?limit=2", "", "", true)
	var sup struct {
		Supporters []struct {
			Email  string `json:"email"`
			Source string `json:"source"`
		} `json:"supporters"`
		Next *int64 `json:"next"`
	}
	if err := json.Unmarshal([]byte(r.body), &sup); err != nil || len(sup.Supporters) != 2 || sup.Supporters[0].Source != "partner-a" || sup.Next == nil {
		t.Fatalf("supporters: %d %s", r.status, r.body)
	}
	// The next page from the cursor the first one gave (on PostgreSQL a
	// sequence may skip an id, so the boundary is not always 2).
	r = call(t, "GET", base+"/admin/api/supporters?after="+strconv.FormatInt(*sup.Next, 10), "", "", true)
	if err := json.Unmarshal([]byte(r.body), &sup); err != nil || len(sup.Supporters) != 2 || sup.Supporters[0].Source != "share-x" || sup.Supporters[1].Source != "" || sup.Next != nil {
		t.Fatalf("supporters page 2: %d %s", r.status, r.body)
	}
	for _, q := range []string{"?limit=0", "?after=x", "?campaign=nope"} {
		if r := call(t, "GET", base+"/admin/api/supporters"+q, "", "", true); r.status != 400 && r.status != 404 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}
