package app

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/config"
)

// Starting live with the example's placeholders logs a warning for each,
// at WARN, naming what to set; dry-run and a ready configuration do not.
func TestStartupWarnsAboutPlaceholdersWhenLive(t *testing.T) {
	start := func(t *testing.T, vars map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		all := map[string]string{"OUTCRY_DB": filepath.Join(dir, "o.db"), "OUTCRY_TARGETS": filepath.Join(dir, "targets.yaml"),
			"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml")}
		for k, v := range vars {
			all[k] = v
		}
		cfg, err := config.Load(func(k string) string { return all[k] })
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		a, err := Build(context.Background(), cfg, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		a.Store.Close()
		return buf.String()
	}
	logs := start(t, map[string]string{"SENDGRID_API_KEY": "SG.test"})
	var warns []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "NOT READY FOR LIVE SENDING") {
			warns = append(warns, l)
		}
	}
	for _, want := range []string{"placeholder addresses", "OUTCRY_FROM_EMAIL=campaigns@example.com", "OUTCRY_BASE_URL=http://localhost:8080"} {
		found := false
		for _, w := range warns {
			found = found || strings.Contains(w, want)
		}
		if !found {
			t.Errorf("no WARN line saying %q in:\n%s", want, logs)
		}
	}
	if logs := start(t, nil); strings.Contains(logs, "NOT READY") {
		t.Errorf("dry-run start warns about going live:\n%s", logs)
	}
}
