package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// testKey returns a fresh P-256 key and its public half as SendGrid shows
// it: base64 of the DER (PKIX) encoding.
func testKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return priv, base64.StdEncoding.EncodeToString(der)
}

// sign signs like SendGrid: ECDSA over SHA-256(timestamp || payload),
// ASN.1-encoded, base64.
func sign(t *testing.T, priv *ecdsa.PrivateKey, timestamp string, payload []byte) string {
	t.Helper()
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, priv, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestVerify(t *testing.T) {
	priv, pub := testKey(t)
	other, otherPub := testKey(t)
	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	body := []byte(`[{"email":"a@example.org","event":"delivered","timestamp":1700000000}]`)
	const maxAge = 10 * time.Minute

	tests := []struct {
		name      string
		key       string
		signature string
		timestamp string
		body      []byte
		want      error // nil: valid
	}{
		{"valid", pub, sign(t, priv, ts, body), ts, body, nil},
		{"valid, a little old", pub, sign(t, priv, at(-9*time.Minute), body), at(-9 * time.Minute), body, nil},
		{"valid, clock skew ahead", pub, sign(t, priv, at(time.Minute), body), at(time.Minute), body, nil},
		{"tampered body", pub, sign(t, priv, ts, body), ts, []byte(`[{"email":"b@example.org","event":"delivered","timestamp":1700000000}]`), ErrBadSignature},
		{"timestamp not the signed one", pub, sign(t, priv, ts, body), at(-time.Second), body, ErrBadSignature},
		{"wrong key", otherPub, sign(t, priv, ts, body), ts, body, ErrBadSignature},
		{"signed by another key", pub, sign(t, other, ts, body), ts, body, ErrBadSignature},
		{"signature not base64", pub, "!!!", ts, body, ErrBadSignature},
		{"signature not asn1", pub, base64.StdEncoding.EncodeToString([]byte("garbage")), ts, body, ErrBadSignature},
		{"stale", pub, sign(t, priv, at(-11*time.Minute), body), at(-11 * time.Minute), body, ErrStale},
		{"future", pub, sign(t, priv, at(6*time.Minute), body), at(6 * time.Minute), body, ErrStale},
		{"timestamp not a number", pub, sign(t, priv, "yesterday", body), "yesterday", body, ErrStale},
		{"timestamp huge", pub, sign(t, priv, "99999999999999999999", body), "99999999999999999999", body, ErrStale},
		{"timestamp negative", pub, sign(t, priv, "-1", body), "-1", body, ErrStale},
		{"missing signature", pub, "", ts, body, ErrMissingSignature},
		{"missing timestamp", pub, sign(t, priv, ts, body), "", body, ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.key, tt.signature, tt.timestamp, tt.body, now, maxAge)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// A real signed post, from sendgrid-go's eventwebhook tests.
const (
	sgFixtureKey       = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
	sgFixtureSignature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
	sgFixtureTimestamp = "1600112502"
	sgFixtureBody      = `[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]` + "\r\n"
)

func TestVerifySendGridFixture(t *testing.T) {
	now := time.Unix(1600112502+30, 0)
	if err := Verify(sgFixtureKey, sgFixtureSignature, sgFixtureTimestamp, []byte(sgFixtureBody), now, time.Minute); err != nil {
		t.Fatalf("Verify(SendGrid fixture) = %v", err)
	}
	events, err := Parse([]byte(sgFixtureBody))
	if err != nil {
		t.Fatalf("Parse(SendGrid fixture) = %v", err)
	}
	if len(events) != 1 || sendlog.StatusFor(events[0]) != sendlog.Dropped || events[0].ProviderMessageIDs()[0] != "LRzXl_NHStOGhQ4kofSm_A" {
		t.Errorf("events = %+v", events)
	}
	if err := Verify(sgFixtureKey, sgFixtureSignature, sgFixtureTimestamp, []byte(sgFixtureBody[:len(sgFixtureBody)-2]), now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify without the trailing CRLF = %v, want ErrBadSignature", err)
	}
}

func TestVerifyBadKey(t *testing.T) {
	priv, _ := testKey(t)
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`[]`)
	sig := sign(t, priv, ts, body)
	for _, key := range []string{"", "not base64!", base64.StdEncoding.EncodeToString([]byte("not der")), rsaKey(t)} {
		err := Verify(key, sig, ts, body, now, time.Minute)
		if err == nil {
			t.Errorf("Verify with key %.20q succeeded", key)
		}
		for _, sentinel := range []error{ErrMissingSignature, ErrStale, ErrBadSignature} {
			if errors.Is(err, sentinel) {
				t.Errorf("key error %v looks like %v", err, sentinel)
			}
		}
	}
}

func rsaKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func TestParsePublicKey(t *testing.T) {
	_, pub := testKey(t)
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"ecdsa", pub, true},
		{"sendgrid fixture", sgFixtureKey, true},
		{"empty", "", false},
		{"not base64", "%%%", false},
		{"not a key", base64.StdEncoding.EncodeToString([]byte("hello")), false},
		{"rsa", rsaKey(t), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ParsePublicKey(tt.key); (err == nil) != tt.ok {
				t.Errorf("ParsePublicKey = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// FuzzVerify feeds outside-controlled headers and body to Verify, which must
// never panic and never accept a body or timestamp that was not signed. (The
// signature itself may vary: ECDSA signatures are malleable and base64 and
// ASN.1 decoding are lenient, which is harmless.)
func FuzzVerify(f *testing.F) {
	f.Add(sgFixtureSignature, sgFixtureTimestamp, []byte(sgFixtureBody))
	f.Add("MAYCAQACAQA=", "1600112502", []byte("[]")) // ASN.1 r=0, s=0
	f.Add("MAYCAf8CAf8=", "1600112502", []byte("[]")) // ASN.1 r=-1, s=-1
	f.Add("", "", []byte(nil))
	now := time.Unix(1600112502, 0)
	f.Fuzz(func(t *testing.T, signature, timestamp string, body []byte) {
		err := Verify(sgFixtureKey, signature, timestamp, body, now, time.Hour)
		if err == nil && (timestamp != sgFixtureTimestamp || string(body) != sgFixtureBody) {
			t.Fatalf("accepted sig %q ts %q body %q", signature, timestamp, body)
		}
	})
}
