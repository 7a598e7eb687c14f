package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/campaign"
)

// TestEditedLetterDefaults: once the organizer saves a default letter, the
// campaign page's form and the public API start from it, at once.
func TestEditedLetterDefaults(t *testing.T) {
	a := newTestApp(t)
	slug := "netflix-baby"
	_, _, page := a.do(t, "GET", "/c/"+slug, "", "")
	if strings.Contains(page, "Edited subject") {
		t.Fatal("edited letter shown before any edit")
	}
	subject, body := "Edited subject", "Edited body"
	if _, err := a.srv.d.Campaigns.Update(context.Background(), slug, campaign.Input{Subject: &subject, Body: &body}); err != nil {
		t.Fatal(err)
	}
	_, _, page = a.do(t, "GET", "/c/"+slug, "", "")
	if !strings.Contains(page, `value="Edited subject"`) || !strings.Contains(page, ">Edited body</textarea>") {
		t.Fatal("campaign page does not start from the edited letter")
	}
	_, _, body = a.do(t, "GET", "/api/v1/campaigns/"+slug, "", "")
	var got struct{ Subject, Body string }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Edited subject" || got.Body != "Edited body" {
		t.Fatalf("API defaults = %+v", got)
	}
}
