package delivery

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A 429's hold, and so the due time stored for its message, is never more
// than an hour away, whatever X-RateLimit-Reset says; a reset that makes no
// sense is logged with its value.
func TestHoldIsBounded(t *testing.T) {
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		reset   time.Time
		backoff time.Duration // BackoffMax
		want    time.Duration // exact hold, or 0: anything up to the bound
		logged  bool
	}{
		{"reset in 30 s is believed", now.Add(30 * time.Second), 0, 30 * time.Second, false},
		{"reset in 59 min is believed", now.Add(59 * time.Minute), 0, 59 * time.Minute, false},
		{"reset in milliseconds", time.Unix(1796185077000, 0), 0, 0, true},
		{"reset two hours ahead", now.Add(2 * time.Hour), 0, 0, true},
		{"reset a day ago", now.Add(-24 * time.Hour), 0, 0, true},
		{"huge back-off without a reset", time.Time{}, 48 * time.Hour, time.Hour, false},
		{"reset near the largest int64", time.Unix(1<<63-1, 0), 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := NewSender(nil, nil, Options{BackoffMax: tt.backoff, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			s.now = func() time.Time { return now }
			s.hold429 = 30 // a long run of 429s: the back-off is at its maximum
			got := s.hold(tt.reset).Sub(now)
			if got <= 0 || got > maxHold {
				t.Fatalf("hold = %v, want more than 0 and at most %v", got, maxHold)
			}
			if tt.want != 0 && got != tt.want {
				t.Fatalf("hold = %v, want %v", got, tt.want)
			}
			if logged := strings.Contains(logs.String(), "X-RateLimit-Reset makes no sense"); logged != tt.logged {
				t.Fatalf("logged = %v, want %v: %s", logged, tt.logged, logs.String())
			}
			if tt.logged && !strings.Contains(logs.String(), "reset="+strconv.FormatInt(tt.reset.Unix(), 10)) {
				t.Fatalf("the log does not give the reset value: %s", logs.String())
			}
		})
	}
}
