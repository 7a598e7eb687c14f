package config

import (
	"strings"
	"testing"
	"time"
)

func TestSafetySettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SubmitRate != 10 || c.Confirm || c.ConfirmTTL != 48*time.Hour || c.RetentionDays != 90 || c.FormMinTime != 3*time.Second || c.TrustedProxies != nil || c.CORSOrigins != nil {
		t.Fatalf("defaults: %+v", c.Safety)
	}
	c, err = Load(env(map[string]string{
		"OUTCRY_SUBMIT_RATE": "0", "OUTCRY_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,::1",
		"OUTCRY_CORS_ORIGINS": "https://a.example, https://b.example/", "OUTCRY_CONFIRM": "on",
		"OUTCRY_CONFIRM_TTL": "24h", "OUTCRY_RETENTION_DAYS": "0", "OUTCRY_FORM_SECRET": "0123456789abcdef",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SubmitRate != 0 || len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "127.0.0.1/32" ||
		strings.Join(c.CORSOrigins, " ") != "https://a.example https://b.example" || !c.Confirm || c.ConfirmTTL != 24*time.Hour || c.RetentionDays != 0 {
		t.Fatalf("parsed: %+v", c.Safety)
	}
	for name, val := range map[string]string{
		"OUTCRY_SUBMIT_RATE": "-1", "OUTCRY_TRUSTED_PROXIES": "10.0.0.0/33", "OUTCRY_CORS_ORIGINS": "example.org",
		"OUTCRY_CONFIRM": "maybe", "OUTCRY_CONFIRM_TTL": "1m", "OUTCRY_RETENTION_DAYS": "-5", "OUTCRY_FORM_SECRET": "short",
		"OUTCRY_FORM_MIN_TIME": "1h",
	} {
		_, err := Load(env(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v does not name the variable", name, val, err)
		}
	}
}
