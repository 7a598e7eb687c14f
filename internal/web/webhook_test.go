package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
)

// queuedMessage writes one letter through the API and returns the opaque id
// of its copy to the first target.
func queuedMessage(t *testing.T, a *testApp) string {
	t.Helper()
	status, _, _ := a.do(t, "POST", "/api/v1/campaigns/netflix-baby/letters", "application/json",
		`{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","subject":"S","body":"B","accept_privacy":true}`)
	if status != 202 {
		t.Fatalf("sign: %d", status)
	}
	msgs, err := a.claim(t, 1), error(nil)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim: %v", err)
	}
	return msgs[0].PublicID
}

func TestWebhookSignature(t *testing.T) {
	signer, err := sgfake.NewWebhookSigner()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := sgfake.NewWebhookSigner()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-11*time.Minute).Unix(), 10)
	tests := []struct {
		name   string
		signer *sgfake.WebhookSigner
		ts     string
		tamper bool
		status int
	}{
		{"valid", signer, now, false, 200},
		{"missing", nil, now, false, 401},
		{"wrong key", other, now, false, 403},
		{"tampered body", signer, now, true, 403},
		{"stale", signer, stale, false, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t)
			a.srv.d.WebhookPublicKey = signer.PublicKey()
			id := queuedMessage(t, a)
			body := fmt.Sprintf(`[{"event":"delivered","sg_event_id":"ev1","outcry_id":%q,"timestamp":%s}]`, id, now)
			signed := body
			if tt.tamper {
				body = strings.Replace(body, "delivered", "bounce", 1)
			}
			req, _ := http.NewRequest("POST", a.http.URL+"/webhooks/sendgrid", strings.NewReader(body))
			if tt.signer != nil {
				sig, err := tt.signer.Sign(tt.ts, []byte(signed))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
				req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", tt.ts)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			counts, _ := a.store.StatusCounts(context.Background(), "netflix-baby")
			if tt.status == 200 && counts["delivered"] != 1 {
				t.Fatalf("a valid post did not move the message: %v", counts)
			}
			if tt.status != 200 && counts["delivered"]+counts["bounced"] != 0 {
				t.Fatalf("a refused post changed the send log: %v", counts)
			}
		})
	}
}

func TestWebhookBodies(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
	}{
		{"not json", "hello", 400},
		{"object, not array", `{"event":"delivered"}`, 400},
		{"invalid utf-8", "[{\"event\":\"\xff\"}", 400},
		{"empty array", `[]`, 200},
		{"unknown message", `[{"event":"delivered","sg_message_id":"nope.1","sg_event_id":"x"}]`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, func(d *Deps) { d.WebhookUnsigned = true })
			status, _, body := a.do(t, "POST", "/webhooks/sendgrid", "application/json", tt.body)
			if status != tt.status {
				t.Fatalf("status %d (%s), want %d", status, body, tt.status)
			}
		})
	}
}
