package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/app/apptest"
	"github.com/outcry/outcry/internal/sgfake"
)

// The whole service: a letter through the form leads to a receipt link on
// the thank-you page, and "Email me a copy" reaches the writer through the
// configured mailer, from the organizer.
func TestReceiptCopyThroughTheMailer(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	_, base := apptest.Start(t, map[string]string{
		"SENDGRID_API_KEY":     "SG.test-key",
		"OUTCRY_SENDGRID_URL":  fake.URL(),
		"OUTCRY_READINESS":     "warn", // a fake SendGrid on loopback, the example's placeholders
		"OUTCRY_FROM_EMAIL":    "letters@campaign.example",
		"OUTCRY_FROM_NAME":     "Stop Baby",
		"OUTCRY_SEND_RATE":     "0",
		"OUTCRY_FORM_MIN_TIME": "0s",
	})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(u string) string {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	page := get(base + "/c/netflix-baby")
	field := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s field", name)
		}
		return m[1]
	}
	form := url.Values{"first_name": {"Ann"}, "last_name": {"Lee"}, "email": {"ann@example.org"}, "subject": {"Stop"},
		"body": {"Please stop."}, "accept_privacy": {"true"}, "csrf": {field("csrf")}, "ts": {field("ts")}}
	resp, err := client.PostForm(base+"/c/netflix-baby", form)
	if err != nil {
		t.Fatal(err)
	}
	thanks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<form method="post" action="(/c/netflix-baby/receipt/[^"]+/email)">`).FindStringSubmatch(string(thanks))
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("thank-you page %d without the offer to email a copy:\n%s", resp.StatusCode, thanks)
	}
	before := len(fake.Requests())
	resp, err = client.Post(base+m[1], "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	receipt, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(receipt), "We have emailed you a copy") {
		t.Fatalf("after asking for a copy: %d", resp.StatusCode)
	}
	var copyMail *sgfake.Mail
	for _, r := range fake.Requests()[before:] {
		if len(r.Mail.Personalizations) > 0 && r.Mail.Personalizations[0].To[0].Email == "ann@example.org" {
			copyMail = &r.Mail
		}
	}
	if copyMail == nil {
		t.Fatal("no copy reached ann@example.org")
	}
	link := strings.TrimSuffix(m[1], "/email") // after OUTCRY_BASE_URL
	if copyMail.From.Name != "The outcry example campaign via Stop Baby" || copyMail.ReplyTo.Email != "privacy@example.com" ||
		!strings.Contains(copyMail.Content[0].Value, link) || !strings.Contains(copyMail.Content[0].Value, "Please stop.") {
		t.Fatalf("copy = %+v", copyMail)
	}
}
