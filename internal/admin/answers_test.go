package admin

import (
	"encoding/json"
	"testing"

	"github.com/outcry/outcry/internal/campaign"
)

// TestAnswersAsTheMapsWere: each typed answer of the console API encodes to
// the bytes of the map[string]any it replaced (encoding/json sorts a map's
// keys; the struct's fields must follow that order and names).
func TestAnswersAsTheMapsWere(t *testing.T) {
	sent := "2026-12-05T10:00:00Z"
	digest := int64(7)
	next := int64(41)
	msgs := []apiMessage{
		{ID: 42, Campaign: "netflix-baby", TargetID: "ted", TargetEmail: "ted@example.com", SupporterEmail: "ada@example.org",
			Status: "sent", Attempts: 1, QueuedAt: sent, SentAt: &sent, UpdatedAt: sent, DigestID: &digest},
		{ID: 41, Campaign: "netflix-baby", TargetID: "bela", Status: "queued", LastError: "<429> & \"later\"", QueuedAt: sent, UpdatedAt: sent},
	}
	camps := []apiCampaign{{Slug: "netflix-baby", Title: "A <title>", Targets: []string{"ted"}, Count: 3, URL: "http://outcry.test/c/netflix-baby"}}
	for _, c := range []struct {
		name         string
		typed, asMap any
	}{
		{"error string", errorAnswer{Error: "Not Found"}, map[string]any{"error": "Not Found"}},
		{"error value", errorAnswer{Error: map[string]int{"x": 1}}, map[string]any{"error": map[string]int{"x": 1}}},
		{"errors", errorsAnswer{Errors: map[string]string{"status": "unknown", "after": "not a number"}},
			map[string]any{"errors": map[string]string{"status": "unknown", "after": "not a number"}}},
		{"campaign field errors", errorsAnswer{Errors: campaign.FieldErrors{"slug": "bad"}}, map[string]any{"errors": campaign.FieldErrors{"slug": "bad"}}},
		{"messages", messagesAnswer{Messages: msgs, Next: &next}, map[string]any{"messages": msgs, "next": &next}},
		{"last page", messagesAnswer{Messages: []apiMessage{}}, map[string]any{"messages": []apiMessage{}, "next": (*int64)(nil)}},
		{"erased", erasedAnswer{Email: "ada@example.org", Erased: 5}, map[string]any{"email": "ada@example.org", "erased": 5}},
		{"campaigns", campaignsAnswer{Campaigns: camps}, map[string]any{"campaigns": camps}},
		{"no campaigns", campaignsAnswer{Campaigns: []apiCampaign{}}, map[string]any{"campaigns": []apiCampaign{}}},
	} {
		got, err := json.Marshal(c.typed)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(c.asMap)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
	}
}
