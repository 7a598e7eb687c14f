// Package token is the one HMAC helper of outcry's signed values: form
// stamps, confirmation links and receipt links are "payload.signature",
// the signature a base64url HMAC-SHA256 of the payload under a key and a
// purpose, so that a value signed for one use is never valid for another.
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

func mac(key []byte, purpose, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
