package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTargetsCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("targets:\n  - id: a\n    name: A\n    title: T\n    email: nope\n    salutation: S\n    active: true\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"bundled file is valid", []string{"targets", "check", "../../targets.yaml"}, 0, "4 targets, 4 active: OK", ""},
		{"problem with line", []string{"targets", "check", bad}, 1, "", bad + `:5: email "nope" is not a valid address`},
		{"missing file", []string{"targets", "check", filepath.Join(dir, "none.yaml")}, 1, "", "no such file"},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, env(nil), &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
			}
		})
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	var errb bytes.Buffer
	code := run(nil, env(map[string]string{"OUTCRY_SEND_RATE": "fast", "OUTCRY_BASE_URL": "localhost"}), io.Discard, &errb)
	if code != 1 || !strings.Contains(errb.String(), "OUTCRY_SEND_RATE") || !strings.Contains(errb.String(), "OUTCRY_BASE_URL") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// TestServeEndToEnd starts the whole service on loopback on its defaults
// (dry-run), sends a letter through the API and waits for the dry-run
// sender to mark every copy sent.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load(env(map[string]string{
		"OUTCRY_DB":       filepath.Join(dir, "e2e.db"),
		"OUTCRY_TARGETS":  filepath.Join(dir, "targets.yaml"), // missing: the bundled file is written there
		"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Netflix is normalizing sexual exploitation of minors") {
		t.Fatalf("campaign page: %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/api/v1/campaigns/netflix-baby/letters", "application/json", strings.NewReader(
		`{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","subject":"Stop","body":"Please stop.","accept_privacy":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("sign: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, err := a.store.StatusCounts(context.Background(), "netflix-baby")
		if err != nil {
			t.Fatal(err)
		}
		if counts["sent"] == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages = %v, want 4 sent by the dry-run sender", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(cfg.Targets); err != nil {
		t.Fatalf("bundled targets file not written: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
