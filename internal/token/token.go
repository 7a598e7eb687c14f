// Package token is the one HMAC helper of outcry's signed values: form
// stamps, confirmation links, receipt links and the console's cookies are
// "payload.signature", the signature a base64url HMAC-SHA256 of the payload
// under a key and a purpose, so that a value signed for one use is never
// valid for another. The console's CSRF tokens are that HMAC alone (Sum).
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// MaxLen bounds a token that Verify reads (longer is refused unread).
const MaxLen = 200

// Sign returns payload + "." + its signature for purpose.
func Sign(key []byte, purpose, payload string) string {
	return payload + "." + mac(key, purpose, payload)
}

// Verify checks a token made by Sign with the same key and purpose and
// returns its payload. The payload may itself contain dots.
func Verify(key []byte, purpose, tok string) (payload string, ok bool) {
	if len(tok) > MaxLen {
		return "", false
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return "", false
	}
	payload, sig := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(sig), []byte(mac(key, purpose, payload))) {
		return "", false
	}
	return payload, true
}

// SignEncoded is Sign with the payload base64url-encoded in the token, so
// that the token holds only base64url characters and a dot whatever the
// payload holds (the console's cookies). The signature is the same as
// Sign's: it covers the payload itself, not its encoding.
func SignEncoded(key []byte, purpose, payload string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + mac(key, purpose, payload)
}

// VerifyEncoded checks a token made by SignEncoded with the same key and
// purpose and returns its payload, decoded.
func VerifyEncoded(key []byte, purpose, tok string) (payload string, ok bool) {
	if len(tok) > MaxLen {
		return "", false
	}
	enc, sig, found := strings.Cut(tok, ".")
	if !found {
		return "", false
	}
	p, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(sig), []byte(mac(key, purpose, string(p)))) {
		return "", false
	}
	return string(p), true
}

// Sum returns the HMAC-SHA256 of payload for purpose, the signature Sign
// writes before its base64 encoding: for a value that is derived and
// compared, never parsed back (a CSRF token, a fingerprint of a password).
func Sum(key []byte, purpose, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00" + payload))
	return m.Sum(nil)
}

func mac(key []byte, purpose, payload string) string {
	return base64.RawURLEncoding.EncodeToString(Sum(key, purpose, payload))
}
