package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/config"
)

// TestCampaignPauseSurvivesRestart: a pause set from the console is loaded
// at start-up, and the running service reloads a hand-edited targets file.
func TestCampaignPauseSurvivesRestartAndWatcherRuns(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load(env(map[string]string{
		"OUTCRY_DB":             filepath.Join(dir, "p.db"),
		"OUTCRY_TARGETS":        filepath.Join(dir, "targets.yaml"),
		"OUTCRY_CAMPAIGN":       filepath.Join(dir, "campaign.yaml"),
		"OUTCRY_ADMIN_PASSWORD": "pw",
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := a.Sender.Paused(); p {
		t.Fatal("paused on a fresh database")
	}
	if err := a.Store.SetCampaignPause(ctx, true, "paused by the organizer from the console"); err != nil {
		t.Fatal(err)
	}
	a.Store.Close()

	a, err = app.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	if p, why := a.Sender.Paused(); !p || !strings.Contains(why, "organizer") {
		t.Fatalf("pause not restored: %v %q", p, why)
	}

	runCtx, cancel := context.WithCancel(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	defer func() { cancel(); <-done }()
	data, _ := os.ReadFile(cfg.Targets)
	// The watcher starts with run; edit until it sees the change (the first
	// write may come before the watch is in place).
	deadline := time.Now().Add(10 * time.Second)
	for {
		os.WriteFile(cfg.Targets, []byte(strings.Replace(string(data), "Ted Sarandos", "Theodore Sarandos", 1)), 0o644)
		time.Sleep(50 * time.Millisecond)
		if tg, ok := a.Targets.Current().ByID("ted-sarandos"); ok && tg.Name == "Theodore Sarandos" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("hand edit of the targets file not picked up")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestAdminConfigValidation(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"OUTCRY_ADMIN_PASSWORD_HASH", "plain"},
		{"OUTCRY_ADMIN_TOKEN", "short"},
		{"OUTCRY_SESSION_SECRET", "short"},
	} {
		_, err := config.Load(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Fatalf("%s=%s: %v", tt.name, tt.value, err)
		}
	}
}
