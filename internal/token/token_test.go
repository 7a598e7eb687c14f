package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	key := []byte("a key")
	tok := Sign(key, "outcry receipt", "42.1700000000")
	if p, ok := Verify(key, "outcry receipt", tok); !ok || p != "42.1700000000" {
		t.Fatalf("Verify(Sign) = %q %v", p, ok)
	}
	bad := map[string]string{
		"other purpose":   "",
		"other key":       "",
		"changed payload": strings.Replace(tok, "42", "43", 1),
		"no signature":    "42",
		"empty":           "",
		"cut signature":   tok[:len(tok)-1],
		"too long":        strings.Repeat("1", MaxLen) + tok,
		"signature only":  tok[strings.LastIndexByte(tok, '.'):],
	}
	for name, v := range bad {
		k, purpose := key, "outcry receipt"
		switch name {
		case "other purpose":
			v, purpose = tok, "outcry confirm"
		case "other key":
			v, k = tok, []byte("another key")
		}
		if p, ok := Verify(k, purpose, v); ok {
			t.Errorf("%s: %q verified as %q", name, v, p)
		}
	}
}

// The form stamp and confirmation link formats predate this package: a
// link already emailed must stay valid, so the signature is the one they
// used, HMAC-SHA256 of "<purpose>\x00<payload>" in base64url.
func TestSignatureFormatIsTheOldOne(t *testing.T) {
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("outcry confirm\x001.2"))
	want := "1.2." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if got := Sign([]byte("k"), "outcry confirm", "1.2"); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}
