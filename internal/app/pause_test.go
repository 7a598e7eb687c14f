package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/sgfake"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Issue 27 item 6: after SendGrid refuses the key (401), "fix the key and
// restart" resumes sending; a restart with the same key stays paused; and
// the start-up log says which pause it is.
func TestProviderPauseLiftedByANewKey(t *testing.T) {
	fake := sgfake.New()
	defer fake.Close()
	fake.SetDefault(sgfake.Response{Status: http.StatusUnauthorized, Body: sgfake.ErrorBody("The provided authorization grant is invalid, expired, or revoked", "")})
	dir := t.TempDir()
	db := pgtest.DB(t, filepath.Join(dir, "outcry.db"))
	run := func(key string, during func(a *app.App, base string)) string {
		t.Helper()
		env := map[string]string{"OUTCRY_DB": db, "OUTCRY_TARGETS": filepath.Join(dir, "targets.yaml"),
			"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"), "OUTCRY_SUBMIT_RATE": "0", "OUTCRY_ADMIN_TOKEN": token,
			"SENDGRID_API_KEY": key, "OUTCRY_SENDGRID_URL": fake.URL(), "OUTCRY_FROM_EMAIL": "campaign@outcry.example", "OUTCRY_READINESS": "warn"}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		a, err := app.Build(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx, ln) }()
		during(a, "http://"+ln.Addr().String())
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		a.Store.Close()
		return logs.String()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waited 20 s for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	run("SG.old-key", func(a *app.App, base string) {
		if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON("ann@example.org"), false); r.status != 202 {
			t.Fatalf("sign: %d %s", r.status, r.body)
		}
		waitFor("the 401 pause", func() bool { p, _ := a.Sender.Paused(); return p })
	})
	logs := run("SG.old-key", func(a *app.App, _ string) {
		if p, _ := a.Sender.Paused(); !p {
			t.Error("a restart with the refused key resumed sending")
		}
	})
	if !strings.Contains(logs, "SendGrid refused this API key") || strings.Contains(logs, "set from the console") {
		t.Errorf("the start-up log does not say the pause is the provider's:\n%s", logs)
	}
	fake.SetDefault(sgfake.Response{})
	logs = run("SG.new-key", func(a *app.App, _ string) {
		if p, why := a.Sender.Paused(); p {
			t.Errorf("a restart with a new key is still paused: %s", why)
		}
		waitFor("the letter sent", func() bool {
			c, _ := a.Store.StatusCounts(context.Background(), "netflix-baby")
			return c["sent"] > 0
		})
	})
	if !strings.Contains(logs, "sending resumes") {
		t.Errorf("the start-up log does not say the pause was lifted:\n%s", logs)
	}
	// A pause set from the console holds whatever the key.
	run("SG.new-key", func(a *app.App, _ string) {
		if err := a.Store.SetCampaignPause(context.Background(), true, "organizer"); err != nil {
			t.Fatal(err)
		}
	})
	logs = run("SG.third-key", func(a *app.App, _ string) {
		if p, _ := a.Sender.Paused(); !p {
			t.Error("a console pause was lifted by a new key")
		}
	})
	if !strings.Contains(logs, "set from the console") {
		t.Errorf("the start-up log does not say the pause is the console's:\n%s", logs)
	}
}
