package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" = valid
		check   func(Config) bool
	}{
		{"defaults", nil, "", func(c Config) bool {
			return c.Addr == "localhost:8080" && c.BaseURL == "http://localhost:8080" && c.DB == "outcry.db" && c.Targets == "targets.yaml" && c.DryRun() &&
				c.SendRate == 5 && c.TargetHourlyCap == 30 && c.SendGridURL == "https://api.sendgrid.com"
		}},
		{"overrides", map[string]string{"OUTCRY_ADDR": ":9000", "SENDGRID_API_KEY": "SG.x", "OUTCRY_SEND_RATE": "0.5",
			"OUTCRY_TARGET_HOURLY_CAP": "0", "OUTCRY_SANDBOX": "on", "OUTCRY_SEND_TIMEOUT": "3s", "OUTCRY_BASE_URL": "https://x.example/"}, "",
			func(c Config) bool {
				return c.Addr == ":9000" && !c.DryRun() && c.SendRate == 0.5 && c.TargetHourlyCap == 0 && c.Sandbox &&
					c.SendTimeout == 3*time.Second && c.BaseURL == "https://x.example"
			}},
		{"base url follows the address", map[string]string{"OUTCRY_ADDR": ":9000"}, "", func(c Config) bool {
			return c.BaseURL == "http://localhost:9000"
		}},
		{"base url of a named address", map[string]string{"OUTCRY_ADDR": "127.0.0.1:18241"}, "", func(c Config) bool {
			return c.BaseURL == "http://127.0.0.1:18241"
		}},
		{"base url of a wildcard address", map[string]string{"OUTCRY_ADDR": "[::]:8081"}, "", func(c Config) bool {
			return c.BaseURL == "http://localhost:8081"
		}},
		{"rate not a number", map[string]string{"OUTCRY_SEND_RATE": "fast"}, "OUTCRY_SEND_RATE", nil},
		{"negative rate", map[string]string{"OUTCRY_SEND_RATE": "-1"}, "OUTCRY_SEND_RATE", nil},
		{"mail rate", map[string]string{"OUTCRY_MAIL_RATE": "0.5"}, "", func(c Config) bool { return c.MailRate == 0.5 }},
		{"mail rate zero", map[string]string{"OUTCRY_MAIL_RATE": "0"}, "OUTCRY_MAIL_RATE", nil},
		{"cap not whole", map[string]string{"OUTCRY_TARGET_HOURLY_CAP": "2.5"}, "OUTCRY_TARGET_HOURLY_CAP", nil},
		{"sandbox", map[string]string{"OUTCRY_SANDBOX": "maybe"}, "OUTCRY_SANDBOX", nil},
		{"base url", map[string]string{"OUTCRY_BASE_URL": "localhost:8080"}, "OUTCRY_BASE_URL", nil},
		{"sendgrid url", map[string]string{"OUTCRY_SENDGRID_URL": "ftp://x"}, "OUTCRY_SENDGRID_URL", nil},
		{"from email", map[string]string{"OUTCRY_FROM_EMAIL": "Campaign <a@b.c>"}, "OUTCRY_FROM_EMAIL", nil},
		{"webhook key", map[string]string{"SENDGRID_WEBHOOK_PUBLIC_KEY": "not-a-key"}, "SENDGRID_WEBHOOK_PUBLIC_KEY", nil},
		{"log level", map[string]string{"OUTCRY_LOG_LEVEL": "loud"}, "OUTCRY_LOG_LEVEL", nil},
		{"lang default", nil, "", func(c Config) bool { return c.Lang == "en" }},
		{"lang set", map[string]string{"OUTCRY_LANG": "pt-BR"}, "", func(c Config) bool { return c.Lang == "pt-BR" }},
		{"lang not a tag", map[string]string{"OUTCRY_LANG": "../x"}, "OUTCRY_LANG", nil},
		{"delivery defaults", nil, "", func(c Config) bool {
			return c.Delivery == "overflow" && c.DigestAfter == time.Hour && c.DigestEvery == 24*time.Hour &&
				c.DigestAt == 9*time.Hour && c.DigestMax == 500 && !c.Drip
		}},
		{"delivery set", map[string]string{"OUTCRY_DELIVERY": "digest", "OUTCRY_DIGEST_AFTER": "10s",
			"OUTCRY_DIGEST_EVERY": "12h@18:30", "OUTCRY_DIGEST_MAX": "50", "OUTCRY_DRIP": "on"}, "", func(c Config) bool {
			return c.Delivery == "digest" && c.DigestAfter == 10*time.Second && c.DigestEvery == 12*time.Hour &&
				c.DigestAt == 18*time.Hour+30*time.Minute && c.DigestMax == 50 && c.Drip
		}},
		{"digest every without time", map[string]string{"OUTCRY_DIGEST_EVERY": "6h"}, "", func(c Config) bool {
			return c.DigestEvery == 6*time.Hour && c.DigestAt == 9*time.Hour
		}},
		{"delivery unknown", map[string]string{"OUTCRY_DELIVERY": "batch"}, "OUTCRY_DELIVERY", nil},
		{"digest after too short", map[string]string{"OUTCRY_DIGEST_AFTER": "5s"}, "OUTCRY_DIGEST_AFTER", nil},
		{"digest after not a duration", map[string]string{"OUTCRY_DIGEST_AFTER": "soon"}, "OUTCRY_DIGEST_AFTER", nil},
		{"digest every bad time", map[string]string{"OUTCRY_DIGEST_EVERY": "24h@25:00"}, "OUTCRY_DIGEST_EVERY", nil},
		{"digest every bad", map[string]string{"OUTCRY_DIGEST_EVERY": "daily"}, "OUTCRY_DIGEST_EVERY", nil},
		{"digest max", map[string]string{"OUTCRY_DIGEST_MAX": "0"}, "OUTCRY_DIGEST_MAX", nil},
		{"drip", map[string]string{"OUTCRY_DRIP": "sometimes"}, "OUTCRY_DRIP", nil},
		{"cap 1 in overflow", map[string]string{"OUTCRY_TARGET_HOURLY_CAP": "1"}, "at least 2 with OUTCRY_DELIVERY=overflow", nil},
		{"cap 1 in digest mode", map[string]string{"OUTCRY_TARGET_HOURLY_CAP": "1", "OUTCRY_DELIVERY": "digest"}, "", func(c Config) bool {
			return c.TargetHourlyCap == 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

// A configuration error names the bad secret setting but never shows its
// value (issue 16, item 10).
func TestLoadHidesSecrets(t *testing.T) {
	env := map[string]string{
		"OUTCRY_ADMIN_TOKEN":         "S3cr3t-tok-15ch",
		"OUTCRY_SESSION_SECRET":      "short-session-secret-Xy7",
		"OUTCRY_FORM_SECRET":         "frm-S3cr3t",
		"OUTCRY_ADMIN_PASSWORD_HASH": "plain-hash-value-Qz9",
	}
	_, err := Load(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("Load accepted short secrets")
	}
	msg := err.Error()
	for name, v := range env {
		if !strings.Contains(msg, name) {
			t.Errorf("error does not name %s: %s", name, msg)
		}
		if strings.Contains(msg, v) {
			t.Errorf("error shows the value of %s: %s", name, msg)
		}
	}
}
