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

func TestSignEncodedVerifyEncoded(t *testing.T) {
	key := []byte("a key")
	for _, payload := range []string{"ABC|1700000000", "", "a.b.c", "\x00\xff|"} {
		tok := SignEncoded(key, "login", payload)
		if strings.Count(tok, ".") != 1 {
			t.Errorf("SignEncoded(%q) = %q: want one dot", payload, tok)
		}
		if p, ok := VerifyEncoded(key, "login", tok); !ok || p != payload {
			t.Errorf("VerifyEncoded(SignEncoded(%q)) = %q %v", payload, p, ok)
		}
		if _, ok := VerifyEncoded(key, "session", tok); ok {
			t.Errorf("%q verified for another purpose", tok)
		}
		if _, ok := VerifyEncoded([]byte("another key"), "login", tok); ok {
			t.Errorf("%q verified under another key", tok)
		}
		if _, ok := Verify(key, "login", tok); ok && payload != "" {
			t.Errorf("%q verified as a Sign token", tok)
		}
	}
	tok := SignEncoded(key, "login", "nonce")
	enc, sig, _ := strings.Cut(tok, ".")
	for name, v := range map[string]string{
		"other payload": base64.RawURLEncoding.EncodeToString([]byte("nonce2")) + "." + sig,
		"no dot":        enc + sig,
		"bad base64":    "!!." + sig,
		"cut signature": tok[:len(tok)-1],
		"too long":      base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("n", MaxLen))) + "." + sig,
	} {
		if p, ok := VerifyEncoded(key, "login", v); ok {
			t.Errorf("%s: %q verified as %q", name, v, p)
		}
	}
}

// The console's cookies and CSRF tokens predate their move to this
// package: a cookie set before must stay valid, so SignEncoded writes
// base64url(payload) "." base64url(HMAC-SHA256 of "<purpose>\x00<payload>"),
// and Sum is that HMAC.
func TestEncodedFormatIsTheConsoleOne(t *testing.T) {
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("login\x00N0NCE"))
	sum := m.Sum(nil)
	want := base64.RawURLEncoding.EncodeToString([]byte("N0NCE")) + "." + base64.RawURLEncoding.EncodeToString(sum)
	if got := SignEncoded([]byte("k"), "login", "N0NCE"); got != want {
		t.Fatalf("SignEncoded = %s, want %s", got, want)
	}
	if got := Sum([]byte("k"), "login", "N0NCE"); !hmac.Equal(got, sum) {
		t.Fatalf("Sum = %x, want %x", got, sum)
	}
}
