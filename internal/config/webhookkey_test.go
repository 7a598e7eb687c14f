package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"testing"

	"github.com/outcry/outcry/internal/webhook"
)

// config checks SENDGRID_WEBHOOK_PUBLIC_KEY without importing webhook; it
// must accept exactly the keys webhook can verify with.
func TestWebhookKeyCheckAgreesWithWebhook(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := func(k any) string {
		b, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	for _, c := range []struct {
		name, key string
		want      bool
	}{
		{"ecdsa", der(&ec.PublicKey), true},
		{"ed25519", der(edPub), false},
		{"not base64", "not-a-key", false},
		{"not DER", base64.StdEncoding.EncodeToString([]byte("hello")), false},
	} {
		if got := ecdsaPublicKey(c.key); got != c.want || got != (webhook.ParsePublicKey(c.key) == nil) {
			t.Errorf("%s: config says %v, webhook says %v, want %v", c.name, got, webhook.ParsePublicKey(c.key) == nil, c.want)
		}
	}
}
