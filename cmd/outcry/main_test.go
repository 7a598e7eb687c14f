package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/app/apptest"
	"github.com/outcry/outcry/internal/sgfake"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTargetsCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("targets:\n  - id: a\n    name: A\n    title: T\n    email: nope\n    salutation: S\n    active: true\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"bundled file is valid", []string{"targets", "check", "../../targets.yaml"}, 0, "4 targets, 4 active: OK", ""},
		{"problem with line", []string{"targets", "check", bad}, 1, "", bad + `:5: email "nope" is not a valid address`},
		{"missing file", []string{"targets", "check", filepath.Join(dir, "none.yaml")}, 1, "", "no such file"},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, env(nil), &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
			}
		})
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	var errb bytes.Buffer
	code := run(nil, env(map[string]string{"OUTCRY_SEND_RATE": "fast", "OUTCRY_BASE_URL": "localhost"}), io.Discard, &errb)
	if code != 1 || !strings.Contains(errb.String(), "OUTCRY_SEND_RATE") || !strings.Contains(errb.String(), "OUTCRY_BASE_URL") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func signAndWait(t *testing.T, a *app.App, base string) {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Netflix is normalizing sexual exploitation of minors") {
		t.Fatalf("campaign page: %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/api/v1/campaigns/netflix-baby/letters", "application/json", strings.NewReader(
		`{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","subject":"Stop","body":"Please stop.","accept_privacy":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("sign: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, err := a.Store.StatusCounts(context.Background(), "netflix-baby")
		if err != nil {
			t.Fatal(err)
		}
		if counts["sent"] == 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages = %v, want 4 sent", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeEndToEnd runs the service on its defaults (dry-run): a letter
// through the API is recorded as sent for each of the 4 targets.
func TestServeEndToEnd(t *testing.T) {
	a, base := apptest.Start(t, nil)
	if a.Sender.Mailer().Name() != "dry-run" {
		t.Fatalf("mailer %s, want dry-run without a key", a.Sender.Mailer().Name())
	}
	signAndWait(t, a, base)
	if _, err := os.Stat(a.Config.Targets); err != nil {
		t.Fatalf("bundled targets file not written: %v", err)
	}
}

// TestServeWithSendGrid runs the service with a SendGrid key pointed at a
// fake SendGrid: the letter reaches the fake once per target.
func TestServeWithSendGrid(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	a, base := apptest.Start(t, map[string]string{
		"SENDGRID_API_KEY":    "SG.test-key",
		"OUTCRY_SENDGRID_URL": fake.URL(),
		"OUTCRY_READINESS":    "warn", // a fake SendGrid on loopback, the example's placeholders
		"OUTCRY_FROM_EMAIL":   "letters@campaign.example",
		"OUTCRY_FROM_NAME":    "Stop Baby",
		"OUTCRY_SANDBOX":      "on",
		"OUTCRY_SEND_RATE":    "0",
	})
	signAndWait(t, a, base)
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("fake SendGrid received %d requests, want 4", len(reqs))
	}
	m := reqs[0].Mail
	if m.From.Name != "Ann Lee via Stop Baby" || m.From.Email != "letters@campaign.example" || m.ReplyTo.Email != "ann@example.org" ||
		!m.MailSettings.SandboxMode.Enable || !strings.HasPrefix(m.Content[0].Value, "Dear ") {
		t.Fatalf("mail = %+v", m)
	}
}
