package admin

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/token"
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

// signed makes "<payload>.<mac>" for a cookie (internal/token's encoded
// form: the payload in base64url).
func (a *auth) signed(kind, payload string) string {
	return token.SignEncoded(a.secret, kind, payload)
}

// verify returns the payload of a signed value, or false.
func (a *auth) verify(kind, v string) (string, bool) {
	return token.VerifyEncoded(a.secret, kind, v)
}

// sessionKind names session cookies in their MAC, bound to the configured
// password (or hash): when the password changes, every session cookie
// signed before stops verifying — a password change logs out everyone.
func (a *auth) sessionKind() string {
	return "session\x00" + hex.EncodeToString(token.Sum(a.secret, "password", a.password+"\x00"+string(a.hash)))
}

// newSession returns a session cookie value, its id and when it expires.
// The caller records the id server-side (Store.CreateAdminSession): a
// cookie counts only while its session is recorded.
func (a *auth) newSession() (value, id string, expires time.Time) {
	id = rand.Text()
	expires = a.now().Add(sessionTTL)
	return a.signed(a.sessionKind(), id+"|"+strconv.FormatInt(expires.Unix(), 10)), id, expires
}

// session returns the session id in a valid, unexpired cookie value. It
// does not check that the session is still recorded (Console.session does).
func (a *auth) session(v string) (string, bool) {
	payload, ok := a.verify(a.sessionKind(), v)
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
func (a *auth) csrf(id string) string { return hex.EncodeToString(token.Sum(a.secret, "csrf", id)) }

func (a *auth) checkCSRF(id, token string) bool {
	want := a.csrf(id)
	return id != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

func (a *auth) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/admin", MaxAge: maxAge, HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode}
}

// ipLimiter limits login attempts per client: an IPv4 address, or an IPv6
// /64 (one host usually holds a whole /64). Its table is bounded: when full,
// the client seen least recently is forgotten, so that a crowd of addresses
// can never lock out a new one (the organizer's).
type ipLimiter struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	max   int
	m     map[string]*list.Element // of *ipEntry; front = most recent
	order *list.List
}

type ipEntry struct {
	key string
	lim *rate.Limiter
}

const loginLimiterSize = 10_000

func newIPLimiter(every time.Duration, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, max: loginLimiterSize, m: map[string]*list.Element{}, order: list.New()}
}

func (l *ipLimiter) allow(ip string) bool {
	key := clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.m[key]; ok {
		l.order.MoveToFront(el)
		return el.Value.(*ipEntry).lim.Allow()
	}
	for l.order.Len() >= l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.m, oldest.Value.(*ipEntry).key)
	}
	e := &ipEntry{key: key, lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
	l.m[key] = l.order.PushFront(e)
	return e.lim.Allow()
}

// clientKey is what the login limiter counts: an IPv4 address as is, an
// IPv6 address by its /64, anything unparsable as given.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
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
