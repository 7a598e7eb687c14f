package sgfake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
)

// WebhookSigner signs Event Webhook posts the way SendGrid does, so tests
// can post signed events to outcry.
type WebhookSigner struct {
	priv *ecdsa.PrivateKey
	pub  string
}

// NewWebhookSigner makes a fresh P-256 key.
func NewWebhookSigner() (*WebhookSigner, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sgfake: webhook key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("sgfake: webhook key: %w", err)
	}
	return &WebhookSigner{priv: priv, pub: base64.StdEncoding.EncodeToString(der)}, nil
}

// PublicKey is the verification key as SendGrid shows it (base64 DER), the
// value of SENDGRID_WEBHOOK_PUBLIC_KEY.
func (w *WebhookSigner) PublicKey() string { return w.pub }

// Sign returns the X-Twilio-Email-Event-Webhook-Signature value for a post:
// ECDSA over SHA-256(timestamp || body), ASN.1, base64.
func (w *WebhookSigner) Sign(timestamp string, body []byte) (string, error) {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, w.priv, h.Sum(nil))
	if err != nil {
		return "", fmt.Errorf("sgfake: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
