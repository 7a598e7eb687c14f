package golive

import (
	"net/http"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/target"
)

func live(mod func(*config.Config)) config.Config {
	c := config.Default()
	c.SendGridAPIKey = "SG.key"
	c.FromEmail = "letters@campaign.org"
	c.BaseURL = "https://write.campaign.org"
	c.Addr = "127.0.0.1:8080"
	c.WebhookPublicKey = "a key (Problems does not check its form; config does)"
	if mod != nil {
		mod(&c)
	}
	return c
}

var real = []target.Target{{ID: "a", Email: "a@netflix.com", Active: true}}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config.Config
		targets []target.Target
		want    []string // one substring per expected warning, in order
	}{
		{"dry-run: the example is fine", config.Default(), []target.Target{{ID: "a", Email: "a@example.com", Active: true}}, nil},
		{"live and ready", live(nil), real, nil},
		{"placeholder targets", live(nil), []target.Target{{ID: "ted", Email: "ted@example.com", Active: true},
			{ID: "off", Email: "off@example.com"}, {ID: "b", Email: "b@netflix.com", Active: true}},
			[]string{"1 active target(s) have placeholder addresses", "ted <ted@example.com>", "targets.yaml"}},
		{"placeholder sender", live(func(c *config.Config) { c.FromEmail = "campaigns@example.com" }), real,
			[]string{"OUTCRY_FROM_EMAIL=campaigns@example.com is a placeholder"}},
		{"localhost base URL", live(func(c *config.Config) { c.BaseURL = "http://localhost:8080" }), real,
			[]string{"OUTCRY_BASE_URL=http://localhost:8080 points at this machine"}},
		{"loopback IP base URL", live(func(c *config.Config) { c.BaseURL = "http://127.0.0.1" }), real,
			[]string{"points at this machine"}},
		{"port differs from OUTCRY_ADDR", live(func(c *config.Config) { c.BaseURL = "http://203.0.113.5:9000" }), real,
			[]string{"names port 9000 but outcry listens on OUTCRY_ADDR=127.0.0.1:8080"}},
		{"same port is fine", live(func(c *config.Config) { c.BaseURL = "http://campaign.org:8080" }), real, nil},
		{"all at once (the defaults with a key)", func() config.Config { c := config.Default(); c.SendGridAPIKey = "k"; return c }(),
			[]target.Target{{ID: "a", Email: "a@example.com", Active: true}},
			[]string{"placeholder addresses", "OUTCRY_FROM_EMAIL", "OUTCRY_BASE_URL", "SENDGRID_WEBHOOK_PUBLIC_KEY"}},
		{"no webhook key", live(func(c *config.Config) { c.WebhookPublicKey = "" }), real, []string{"SENDGRID_WEBHOOK_PUBLIC_KEY is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.cfg, tt.targets)
			all := strings.Join(got, "\n")
			if len(tt.want) == 0 && len(got) > 0 {
				t.Fatalf("warnings %q, want none", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q do not say %q", got, w)
				}
			}
		})
	}
}

// Readiness holds live sending while a blocking problem is open
// (placeholder targets, sender, loopback base URL), not for warnings (no
// webhook key, a proxy not trusted), never in dry run or with Hold off
// (OUTCRY_READINESS=warn).
func TestReadinessHolds(t *testing.T) {
	ph := []target.Target{{ID: "ted", Email: "ted@example.com", Active: true}}
	targets := ph
	r := &Readiness{Config: live(nil), Targets: func() []target.Target { return targets }, Hold: true}
	if held, why := r.Held(); !held || why != PlaceholderTargets {
		t.Fatalf("placeholder targets: held %v (%s)", held, why)
	}
	targets = real
	if held, _ := r.Held(); held {
		t.Fatal("held with real targets")
	}
	// A proxy not trusted: a warning, not a hold.
	req, _ := http.NewRequest("GET", "/", nil)
	req.RemoteAddr = "203.0.113.9:4000"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.SeeRequest(req)
	if len(r.Problems()) != 0 {
		t.Fatalf("a public client's X-Forwarded-For counted as a proxy: %v", r.Problems())
	}
	req.RemoteAddr = "10.0.0.2:4000"
	r.SeeRequest(req)
	ps := r.Problems()
	if len(ps) != 1 || ps[0].Code != UntrustedProxy || ps[0].Blocking {
		t.Fatalf("after a request through a private proxy: %+v", ps)
	}
	if held, _ := r.Held(); held {
		t.Fatal("a warning held sending")
	}
	targets = ph
	r.Hold = false
	if held, _ := r.Held(); held {
		t.Fatal("OUTCRY_READINESS=warn held sending")
	}
	dry := &Readiness{Config: config.Default(), Targets: func() []target.Target { return ph }, Hold: true}
	if held, _ := dry.Held(); held || len(dry.Problems()) != 0 {
		t.Fatal("dry run is held or has problems")
	}
}

func TestPlaceholderAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"ted@example.com": true, "a@EXAMPLE.ORG": true, "x@mail.example.net": true, "x@foo.test": true,
		"x@campaign.example": true, "x@localhost": true, "ted@netflix.com": false, "x@myexample.com": false, "nope": false,
	} {
		if got := PlaceholderAddress(addr); got != want {
			t.Errorf("PlaceholderAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}
