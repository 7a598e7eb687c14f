package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"
)

// oldMAC is the HMAC the console wrote before it used internal/token:
// HMAC-SHA256 of its parts joined by NUL bytes.
func oldMAC(secret []byte, parts ...string) []byte {
	h := hmac.New(sha256.New, secret)
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// TestCookiesOfTheOldFormatStayValid: a session cookie, a login cookie and
// a CSRF token made before the console's signing moved to internal/token
// still verify, so an upgrade logs nobody out and breaks no open form.
func TestCookiesOfTheOldFormatStayValid(t *testing.T) {
	secret := []byte("a session secret of 32 characters")
	now := time.Unix(1_800_000_000, 0)
	a := &auth{password: "pw", secret: secret, now: func() time.Time { return now }}
	b64 := base64.RawURLEncoding.EncodeToString

	kind := "session\x00" + hex.EncodeToString(oldMAC(secret, "password", "pw", ""))
	payload := "SESSIONID|1800003600"
	cookie := b64([]byte(payload)) + "." + b64(oldMAC(secret, kind, payload))
	if id, ok := a.session(cookie); !ok || id != "SESSIONID" {
		t.Errorf("old session cookie: session = %q %v, want SESSIONID true", id, ok)
	}
	if v, _, _ := a.newSession(); len(v) == 0 {
		t.Fatal("no new session")
	}

	login := b64([]byte("NONCE")) + "." + b64(oldMAC(secret, "login", "NONCE"))
	if n, ok := a.verify("login", login); !ok || n != "NONCE" {
		t.Errorf("old login cookie: verify = %q %v", n, ok)
	}
	if got := a.signed("login", "NONCE"); got != login {
		t.Errorf("signed = %s, want the old format %s", got, login)
	}

	csrf := hex.EncodeToString(oldMAC(secret, "csrf", "SESSIONID"))
	if !a.checkCSRF("SESSIONID", csrf) {
		t.Error("old CSRF token refused")
	}

	// A password change still ends every session signed before it.
	b := &auth{password: "new pw", secret: secret, now: a.now}
	if _, ok := b.session(cookie); ok {
		t.Error("a session signed under the old password verified after the change")
	}
}
