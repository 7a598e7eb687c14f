// Package outhook sends outcry's outgoing webhooks (issue 23) as the
// Standard Webhooks specification (standardwebhooks.com) says: signed
// deliveries, taken from the database by the elected sender, retried on
// the specification's schedule, to endpoints that an organizer manages
// (Service). The events themselves are written by the store, in the
// transaction of the change they report (internal/hookevent).
//
// Not to be confused with internal/webhook, SendGrid's incoming event
// webhook.
package outhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// secretPrefix starts every endpoint secret, as the specification's
// libraries expect.
const secretPrefix = "whsec_"

// NewSecret is a new endpoint secret: "whsec_" and 32 random bytes in
// base64 (the specification asks for 24 to 64).
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ErrSecret is a secret that is not "whsec_" and base64.
var ErrSecret = errors.New("outhook: the secret is not whsec_ followed by base64")

func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrSecret
	}
	return key, nil
}

// Sign is the webhook-signature header of a delivery: "v1," and the
// base64 HMAC-SHA256, keyed by the secret's decoded bytes, of
// "<webhook-id>.<webhook-timestamp>.<body>".
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Verify checks a delivery as a receiver would: one of the space-separated
// signatures in sigHeader is ours, and the timestamp is within tolerance
// of now. It is the receiver's side, for tests and for docs/crm.md.
func Verify(secret, msgID, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errors.New("outhook: bad webhook-timestamp")
	}
	ts := time.Unix(sec, 0)
	if now.Sub(ts) > tolerance || ts.Sub(now) > tolerance {
		return errors.New("outhook: webhook-timestamp out of tolerance")
	}
	want, err := Sign(secret, msgID, ts, body)
	if err != nil {
		return err
	}
	for _, s := range strings.Fields(sigHeader) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("outhook: no matching signature")
}
