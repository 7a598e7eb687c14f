// Package apptest runs the whole service for a test, built by internal/app
// as cmd/outcry builds it, on loopback.
package apptest

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/pgtest"
)

// Start builds the service from vars (over a database, targets file and
// campaign file in t's temporary folder, the database on PostgreSQL when
// OUTCRY_TEST_STORE=postgres; the targets file is missing, so
// the bundled one is written there), runs it until t ends, and returns it
// with its base URL.
func Start(t testing.TB, vars map[string]string) (*app.App, string) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"OUTCRY_DB":       pgtest.DB(t, filepath.Join(dir, "outcry.db")),
		"OUTCRY_TARGETS":  filepath.Join(dir, "targets.yaml"),
		"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"),
	}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		a.Store.Close()
	})
	return a, "http://" + ln.Addr().String()
}
