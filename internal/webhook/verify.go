package webhook

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

// Headers SendGrid signs webhook posts with.
const (
	SignatureHeader = eventwebhook.VerificationHTTPHeader // X-Twilio-Email-Event-Webhook-Signature
	TimestampHeader = eventwebhook.TimestampHTTPHeader    // X-Twilio-Email-Event-Webhook-Timestamp
)

// MaxFuture is how far ahead of now a signed timestamp may be.
const MaxFuture = 5 * time.Minute

// Verification failures.
var (
	ErrMissingSignature = errors.New("webhook: missing signature or timestamp header")
	ErrStale            = errors.New("webhook: timestamp too old, too far ahead, or unreadable")
	ErrBadSignature     = errors.New("webhook: bad signature")
)

// ParsePublicKey checks a verification key as shown in SendGrid's Mail
// Settings (base64 of a DER-encoded ECDSA public key), for start-up config
// validation.
func ParsePublicKey(b64 string) error {
	_, err := publicKey(b64)
	return err
}

// publicKey decodes the key. It checks the key type itself because
// eventwebhook.ConvertPublicKeyBase64ToECDSA panics on a valid key of
// another type (RSA, Ed25519).
func publicKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("webhook: public key: %w", err)
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("webhook: public key: %w", err)
	}
	if _, ok := key.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("webhook: public key: %T is not an ECDSA key", key)
	}
	return eventwebhook.ConvertPublicKeyBase64ToECDSA(b64)
}

// Verify checks a webhook post: signature and timestamp are the values of
// SignatureHeader and TimestampHeader, body the raw request body. The
// timestamp (Unix seconds) must be no older than maxAge and no more than
// MaxFuture ahead of now. It returns ErrMissingSignature when either
// header is empty, ErrStale, ErrBadSignature, or a key error.
func Verify(publicKeyBase64, signature, timestamp string, body []byte, now time.Time, maxAge time.Duration) error {
	if signature == "" || timestamp == "" {
		return ErrMissingSignature
	}
	key, err := publicKey(publicKeyBase64)
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	at := time.Unix(ts, 0)
	if now.Sub(at) > maxAge || at.Sub(now) > MaxFuture {
		return ErrStale
	}
	ok, err := eventwebhook.VerifySignature(key, body, signature, timestamp)
	if err != nil || !ok {
		return ErrBadSignature
	}
	return nil
}
