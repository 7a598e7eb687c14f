package app_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// console is an organizer signed in to one instance's console.
type console struct {
	t    *testing.T
	base string
	c    *http.Client
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func signIn(t *testing.T, base, password string) *console {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &console{t: t, base: base, c: &http.Client{Jar: jar}}
	c.post("/admin/login", url.Values{"password": {password}}, "/admin/login")
	return c
}

// post sends a console form with the CSRF token of the page it is on.
func (c *console) post(path string, form url.Values, page string) string {
	c.t.Helper()
	resp, err := c.c.Get(c.base + page)
	if err != nil {
		c.t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	m := csrfRe.FindStringSubmatch(b.String())
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", page)
	}
	form.Set("csrf", m[1])
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	resp, err = c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		c.t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
	return resp.Request.URL.String()
}

// Two instances on one database: the organizer pauses all sending in the
// console of one, and the other — whichever of them sends — is paused
// within 5 s; a resume on the other lifts it on both.
func TestPauseReachesEveryInstance(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shared.db")
	vars := map[string]string{"OUTCRY_DB": db, "OUTCRY_ADMIN_PASSWORD": "correct horse battery"}
	a, aURL := start(t, vars)
	b, bURL := start(t, vars)

	signIn(t, aURL, "correct horse battery").post("/admin/pause", url.Values{}, "/admin")
	paused := time.Now()
	for {
		pa, _ := a.Sender.Paused()
		pb, why := b.Sender.Paused()
		if pa && pb {
			if !strings.Contains(why, "organizer") {
				t.Fatalf("b paused for %q", why)
			}
			break
		}
		if time.Since(paused) > 5*time.Second {
			t.Fatalf("5 s after the pause on a: a paused %v, b paused %v", pa, pb)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.Sender.Leading() == b.Sender.Leading() {
		t.Fatalf("a leads %v, b leads %v: want exactly one sender", a.Sender.Leading(), b.Sender.Leading())
	}

	signIn(t, bURL, "correct horse battery").post("/admin/resume", url.Values{}, "/admin")
	resumed := time.Now()
	for {
		pa, _ := a.Sender.Paused()
		pb, _ := b.Sender.Paused()
		if !pa && !pb {
			break
		}
		if time.Since(resumed) > 5*time.Second {
			t.Fatalf("5 s after the resume on b: a paused %v, b paused %v", pa, pb)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
