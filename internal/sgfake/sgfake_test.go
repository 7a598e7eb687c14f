package sgfake

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const validMail = `{"from":{"email":"f@example.org","name":"Ann via Outcry"},
"reply_to":{"email":"ann@example.net","name":"Ann"},
"personalizations":[{"to":[{"email":"mp@example.gov","name":"The MP"}]}],
"subject":"Hello","content":[{"type":"text/plain","value":"Body"}],
"custom_args":{"outcry_id":"abc"},"categories":["save-the-park"],
"mail_settings":{"sandbox_mode":{"enable":true}}}`

// post sends one request; auth "" sends no Authorization header.
func post(t *testing.T, client *http.Client, url, auth, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v3/mail/send", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

func TestRecordsMail(t *testing.T) {
	s := New()
	defer s.Close()

	r1, _ := post(t, http.DefaultClient, s.URL(), "Bearer k", validMail)
	r2, _ := post(t, http.DefaultClient, s.URL(), "Bearer k", validMail)
	if r1.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d, want 202", r1.StatusCode)
	}
	id1, id2 := r1.Header.Get("X-Message-Id"), r2.Header.Get("X-Message-Id")
	if id1 == "" || id1 == id2 {
		t.Errorf("message ids %q, %q: want unique and non-empty", id1, id2)
	}
	if s.Count() != 2 {
		t.Errorf("Count = %d, want 2", s.Count())
	}
	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	m := reqs[0].Mail
	checks := []struct{ name, got, want string }{
		{"from", m.From.Email, "f@example.org"},
		{"from name", m.From.Name, "Ann via Outcry"},
		{"reply_to", m.ReplyTo.Email, "ann@example.net"},
		{"to", m.Personalizations[0].To[0].Email, "mp@example.gov"},
		{"subject", m.Subject, "Hello"},
		{"content", m.Content[0].Type + ":" + m.Content[0].Value, "text/plain:Body"},
		{"custom arg", m.CustomArgs["outcry_id"], "abc"},
		{"category", strings.Join(m.Categories, ","), "save-the-park"},
		{"auth", reqs[0].Header.Get("Authorization"), "Bearer k"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !m.MailSettings.SandboxMode.Enable {
		t.Error("sandbox mode not decoded")
	}
	if reqs[0].At.IsZero() || len(reqs[0].Body) == 0 {
		t.Error("At or Body not recorded")
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name, auth, body string
		want             int
	}{
		{"no auth", "", validMail, http.StatusUnauthorized},
		{"basic auth", "Basic abc", validMail, http.StatusUnauthorized},
		{"empty key", "Bearer ", validMail, http.StatusUnauthorized},
		{"bad json", "Bearer k", `{"from":`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			defer s.Close()
			s.Script(Response{Status: 500})
			resp, body := post(t, http.DefaultClient, s.URL(), tt.auth, tt.body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if !strings.Contains(body, `"errors"`) {
				t.Errorf("body %q is not a SendGrid error document", body)
			}
			// The scripted 500 is still waiting.
			if resp, _ := post(t, http.DefaultClient, s.URL(), "Bearer k", validMail); resp.StatusCode != 500 {
				t.Errorf("next status = %d, want scripted 500", resp.StatusCode)
			}
		})
	}
}

func TestScriptThenDefault(t *testing.T) {
	s := New()
	defer s.Close()
	s.Script(
		Response{Status: 429, Header: map[string]string{"X-RateLimit-Reset": "1700000000"}},
		Response{Status: 400, Body: ErrorBody("bad to", "personalizations.0.to")},
	)
	want := []struct {
		status int
		header string
	}{{429, "1700000000"}, {400, ""}, {202, ""}}
	for i, w := range want {
		resp, body := post(t, http.DefaultClient, s.URL(), "Bearer k", validMail)
		if resp.StatusCode != w.status {
			t.Fatalf("answer %d: status = %d, want %d", i, resp.StatusCode, w.status)
		}
		if got := resp.Header.Get("X-RateLimit-Reset"); got != w.header {
			t.Errorf("answer %d: reset header = %q, want %q", i, got, w.header)
		}
		if w.status == 400 && !strings.Contains(body, "bad to") {
			t.Errorf("answer %d: body = %q", i, body)
		}
		if has := resp.Header.Get("X-Message-Id") != ""; has != (w.status == 202) {
			t.Errorf("answer %d: X-Message-Id present = %v", i, has)
		}
	}

	s.SetDefault(Response{Status: 500, Body: "outage"})
	for range 3 {
		if resp, _ := post(t, http.DefaultClient, s.URL(), "Bearer k", validMail); resp.StatusCode != 500 {
			t.Fatalf("status = %d, want default 500", resp.StatusCode)
		}
	}
	if s.Count() != 6 {
		t.Errorf("Count = %d, want 6", s.Count())
	}
}

func TestHangRespectsClientTimeout(t *testing.T) {
	s := New()
	defer s.Close()
	s.Script(Response{Hang: 10 * time.Second})

	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v3/mail/send", strings.NewReader(validMail))
	req.Header.Set("Authorization", "Bearer k")
	start := time.Now()
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("want a timeout error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// The next request gets the default answer at once.
	if resp, _ := post(t, http.DefaultClient, s.URL(), "Bearer k", validMail); resp.StatusCode != 202 {
		t.Errorf("status = %d, want 202", resp.StatusCode)
	}
}

func TestCloseCutsHang(t *testing.T) {
	s := New()
	s.SetDefault(Response{Hang: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/v3/mail/send", strings.NewReader(validMail))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for s.Count() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a hanging request", d)
	}
	<-errc
}

func TestSetRecordAndPerSecond(t *testing.T) {
	s := New()
	defer s.Close()
	s.SetRecord(false)
	for range 5 {
		post(t, http.DefaultClient, s.URL(), "Bearer k", validMail)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("recorded %d requests with recording off", n)
	}
	s.SetRecord(true)
	post(t, http.DefaultClient, s.URL(), "Bearer k", validMail)
	if n := len(s.Requests()); n != 1 {
		t.Errorf("recorded %d requests, want 1", n)
	}
	total := 0
	for sec, n := range s.PerSecond() {
		if d := time.Since(time.Unix(sec, 0)); d < 0 || d > time.Minute {
			t.Errorf("odd second %d", sec)
		}
		total += n
	}
	if total != 6 || s.Count() != 6 {
		t.Errorf("per-second total %d, Count %d, want 6", total, s.Count())
	}
}

func TestOtherRoutes(t *testing.T) {
	s := New()
	defer s.Close()
	resp, err := http.Get(s.URL() + "/v3/mail/send")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET status = %d, want 405", resp.StatusCode)
	}
	if r, _ := post(t, http.DefaultClient, s.URL()+"/v3/other", "Bearer k", validMail); r.StatusCode != http.StatusNotFound {
		t.Errorf("other path status = %d, want 404", r.StatusCode)
	}
	if s.Count() != 0 {
		t.Errorf("Count = %d, want 0", s.Count())
	}
}

func TestConcurrent(t *testing.T) {
	s := New()
	defer s.Close()
	s.Script(Response{Status: 500}, Response{Status: 500})
	const workers, each = 16, 50
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var mu sync.Mutex
	ids := make(map[string]bool)
	statuses := make(map[int]int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				// Not post: t.Fatal must not be called off the test goroutine.
				req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v3/mail/send", strings.NewReader(validMail))
				req.Header.Set("Authorization", "Bearer k")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if id := resp.Header.Get("X-Message-Id"); id != "" {
					if ids[id] {
						t.Errorf("duplicate id %s", id)
					}
					ids[id] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if s.Count() != workers*each || len(s.Requests()) != workers*each {
		t.Errorf("Count %d, recorded %d, want %d", s.Count(), len(s.Requests()), workers*each)
	}
	if statuses[500] != 2 || statuses[202] != workers*each-2 {
		t.Errorf("statuses = %v", statuses)
	}
}
