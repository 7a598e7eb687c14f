package outhook

import (
	"strings"
	"testing"
	"time"
)

// The test vector of the specification's reference libraries.
func TestSignReferenceVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		msgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	got, err := Sign(secret, msgID, time.Unix(1614265330, 0), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	now := time.Unix(1614265330, 0)
	if err := Verify(secret, msgID, "1614265330", "v1,other "+want, []byte(body), now, 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for name, c := range map[string][4]string{
		"body changed":   {msgID, "1614265330", want, body + " "},
		"id changed":     {msgID + "x", "1614265330", want, body},
		"time changed":   {msgID, "1614265331", want, body},
		"no signature":   {msgID, "1614265330", "", body},
		"stale":          {msgID, "1614264000", want, body},
		"bad timestamp":  {msgID, "soon", want, body},
		"another scheme": {msgID, "1614265330", strings.Replace(want, "v1,", "v1a,", 1), body},
	} {
		if err := Verify(secret, c[0], c[1], c[2], []byte(c[3]), now, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if !strings.HasPrefix(a, "whsec_") || a == b {
		t.Fatalf("secrets %q, %q", a, b)
	}
	key, err := secretKey(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("key of %q: %d bytes, %v", a, len(key), err)
	}
	if _, err := Sign("whsec_***", "msg", time.Now(), nil); err == nil {
		t.Fatal("a secret that is not base64 signed")
	}
}

func TestScheduleIsTheSpecifications(t *testing.T) {
	want := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if len(Schedule) != len(want) {
		t.Fatalf("Schedule = %v", Schedule)
	}
	for i := range want {
		if Schedule[i] != want[i] {
			t.Fatalf("Schedule[%d] = %v, want %v", i, Schedule[i], want[i])
		}
	}
}
