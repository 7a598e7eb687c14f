package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

const (
	sessionCookie = "outcry_admin"
	loginCookie   = "outcry_admin_login"
	sessionTTL    = 12 * time.Hour
)

// auth signs sessions and CSRF tokens with one secret.
type auth struct {
	password string
	hash     []byte
	secret   []byte
	secure   bool
	now      func() time.Time
	limiter  *ipLimiter
}

// enabled reports whether a password is configured.
func (a *auth) enabled() bool { return a.password != "" || len(a.hash) > 0 }

// checkPassword compares in constant time (bcrypt when a hash is configured).
func (a *auth) checkPassword(pw string) bool {
	if len(a.hash) > 0 {
		return bcrypt.CompareHashAndPassword(a.hash, []byte(pw)) == nil
	}
	if a.password == "" {
		return false
	}
	x, y := sha256.Sum256([]byte(pw)), sha256.Sum256([]byte(a.password))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

func (a *auth) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, a.secret)
	h.Write([]byte(strings.Join(parts, "\x00")))
	return h.Sum(nil)
}

// signed makes "<payload>.<mac>" for a cookie.
func (a *auth) signed(kind, payload string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(a.mac(kind, payload))
}

// verify returns the payload of a signed value, or false.
func (a *auth) verify(kind, v string) (string, bool) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return "", false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, a.mac(kind, string(payload))) {
		return "", false
	}
	return string(payload), true
}

// newSession returns a session cookie value and its id.
func (a *auth) newSession() (value, id string) {
	id = rand.Text()
	exp := a.now().Add(sessionTTL).Unix()
	return a.signed("session", id+"|"+strconv.FormatInt(exp, 10)), id
}

// session returns the session id in a valid, unexpired cookie value.
func (a *auth) session(v string) (string, bool) {
	payload, ok := a.verify("session", v)
	if !ok {
		return "", false
	}
	id, expS, ok := strings.Cut(payload, "|")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if !ok || err != nil || a.now().Unix() >= exp {
		return "", false
	}
	return id, true
}

// csrf is the form token tied to a session (or to the login cookie).
func (a *auth) csrf(id string) string { return hex.EncodeToString(a.mac("csrf", id)) }

func (a *auth) checkCSRF(id, token string) bool {
	want := a.csrf(id)
	return id != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

func (a *auth) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/admin", MaxAge: maxAge, HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode}
}

// ipLimiter limits login attempts per client address.
type ipLimiter struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	m     map[string]*rate.Limiter
}

func newIPLimiter(every time.Duration, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[ip]
	if !ok {
		if len(l.m) >= 10000 {
			// Bound memory without letting a crowd of addresses reset
			// everyone's count: forget only those whose bucket is full again.
			for k, v := range l.m {
				if v.Tokens() >= float64(l.burst) {
					delete(l.m, k)
				}
			}
			if len(l.m) >= 10000 {
				return false // still full: refuse until buckets refill
			}
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[ip] = lim
	}
	return lim.Allow()
}

// tokenOK compares a Bearer header with the configured token in constant time.
func tokenOK(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return false
	}
	x, y := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}
