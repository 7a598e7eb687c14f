package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/outcry/outcry/internal/campaign"
)

var subjectValue = regexp.MustCompile(`id="f-subject"[^>]*value="([^"]*)"`)

// Subject variants (issue 24): each form is prefilled with one drawn at
// random, the same for the whole session; the API lists them.
func TestSubjectVariantsDrawnPerSession(t *testing.T) {
	var svc *campaign.Service
	a := newTestApp(t, func(d *Deps) { svc = d.Campaigns })
	variants := []string{"Stop Baby now", "Children are not content", "Take it down"}
	if _, err := svc.Update(context.Background(), "netflix-baby", campaign.Input{Subjects: &variants}); err != nil {
		t.Fatal(err)
	}
	subjectFor := func(session string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", a.http.URL+"/c/netflix-baby", nil)
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: session})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := subjectValue.FindStringSubmatch(string(b))
		if m == nil {
			t.Fatal("no subject field")
		}
		return m[1]
	}
	seen := map[string]bool{}
	for i := range 30 {
		session := fmt.Sprintf("session%02dxxxxxxxxxxxxxxxxxxxx", i)
		s := subjectFor(session)
		if !slices.Contains(variants, s) {
			t.Fatalf("subject %q is not a variant", s)
		}
		if again := subjectFor(session); again != s {
			t.Fatalf("the same session got %q, then %q", s, again)
		}
		seen[s] = true
	}
	if len(seen) != len(variants) {
		t.Errorf("30 sessions drew %d of the %d variants", len(seen), len(variants))
	}
	_, _, body := a.do(t, "GET", "/api/v1/campaigns/netflix-baby", "", "")
	var api struct {
		Subject  string   `json:"subject"`
		Subjects []string `json:"subjects"`
	}
	if err := json.Unmarshal([]byte(body), &api); err != nil || !slices.Equal(api.Subjects, variants) || api.Subject != variants[0] {
		t.Fatalf("campaign API: %s (%v)", body, err)
	}
}
