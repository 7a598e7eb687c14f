package outbox

import (
	"testing"
	"time"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/sendwindow"
	"github.com/outcry/outcry/internal/store"
)

func TestEstimate(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	p := &Policy{Cap: 30, After: time.Hour, Every: 24 * time.Hour, At: 9 * time.Hour, Max: 500}
	tests := []struct {
		mode delivery.Mode
		n    int
		want string
	}{
		{delivery.Overflow, 10_000, "all letters delivered within about 1 h: 29 individually, the rest in 20 digests"},
		{delivery.Overflow, 20, "all letters delivered within about a minute, each as its own email"},
		{delivery.Digest, 10_000, "all letters delivered within about 2 h, in 20 digests"},
		{delivery.Individual, 10_000, "all letters delivered within about 14 days, each as its own email"},
		{delivery.Individual, 0, "no letters waiting"},
	}
	for _, tt := range tests {
		p.Mode = tt.mode
		if got := p.Estimate("c", tt.n, 5, now).String(); got != tt.want {
			t.Errorf("%s, %d letters: %q, want %q", tt.mode, tt.n, got, tt.want)
		}
	}
}

func TestNextDigest(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	p := &Policy{Cap: 30, Mode: delivery.Overflow, After: time.Hour, Every: 24 * time.Hour, At: 9 * time.Hour, Max: 500}
	h := store.QueueHead{Campaign: "c", Queued: 700, QueuedAt: now.Add(-20 * time.Minute)}
	if at, n, ok := p.NextDigest(h, now); !ok || !at.Equal(now.Add(40*time.Minute)) || n != 500 {
		t.Errorf("overflow: %s %d %v", at, n, ok)
	}
	p.Mode = delivery.Digest
	if at, n, ok := p.NextDigest(h, now); !ok || !at.Equal(now.Add(2*time.Hour)) || n != 500 {
		t.Errorf("digest: %s %d %v", at, n, ok)
	}
	p.Mode = delivery.Individual
	if _, _, ok := p.NextDigest(h, now); ok {
		t.Error("individual mode has no digest")
	}
}

func TestPlan(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	p := &Policy{Cap: 30, Mode: delivery.Overflow, After: time.Hour, Max: 500}
	plan := p.Plan([]store.QueueHead{
		{TargetID: "t1", Campaign: "a", Queued: 10_000, QueuedAt: now},
		{TargetID: "t1", Campaign: "b", Queued: 3, QueuedAt: now},
		{TargetID: "t2", Campaign: "a", Queued: 5, QueuedAt: now},
	}, 5, now, false)
	if len(plan) != 2 || plan[0].TargetID != "t1" || plan[0].Estimate.Digests != 20 ||
		!plan[0].NextDigestAt.Equal(now.Add(time.Hour)) || plan[0].NextDigestFor != 500 {
		t.Fatalf("plan %+v", plan)
	}
	if plan[1].Estimate.String() != "all letters delivered within about a minute, each as its own email" {
		t.Fatalf("t2: %s", plan[1].Estimate)
	}
}

func TestDrain(t *testing.T) {
	cases := []struct {
		name    string
		queued  map[string]int
		rate    float64
		cap     int
		want    time.Duration
		limited bool
	}{
		{"empty", nil, 5, 30, 0, true},
		{"rate bound", map[string]int{"a": 10, "b": 10}, 5, 0, 4 * time.Second, true},
		{"cap bound", map[string]int{"a": 61, "b": 1}, 100, 30, 2 * time.Hour, true},
		{"under the cap", map[string]int{"a": 2, "b": 8}, 5, 30, 2 * time.Second, true},
		{"cap only", map[string]int{"a": 31}, 0, 30, time.Hour, true},
		{"unlimited", map[string]int{"a": 10}, 0, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Drain(c.queued, c.rate, c.cap)
			if got.Round(time.Second) != c.want || ok != c.limited {
				t.Fatalf("got %v %v, want %v %v", got, ok, c.want, c.limited)
			}
		})
	}
}

// A campaign with sending hours: the estimate counts sending hours and, when
// closed, says when the next window opens; its next digest waits for it.
func TestEstimateInsideSendingHours(t *testing.T) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	w, err := sendwindow.Parse("Europe/London", "08:00-19:00", []string{"mon", "tue", "wed", "thu", "fri"})
	if err != nil {
		t.Fatal(err)
	}
	p := &Policy{Cap: 30, Mode: delivery.Overflow, After: time.Hour, Every: 24 * time.Hour, At: 9 * time.Hour, Max: 500,
		Campaign: func(string) (CampaignInfo, bool) { return CampaignInfo{Window: w}, true }}
	sat := time.Date(2026, 3, 7, 12, 0, 0, 0, loc)
	want := "all letters delivered within about 1 h of sending hours (08:00-19:00 mon,tue,wed,thu,fri Europe/London): 29 individually, the rest in 20 digests; next sending window opens Monday 08:00 Europe/London"
	if got := p.Estimate("c", 10_000, 5, sat).String(); got != want {
		t.Errorf("closed:\n got %q\nwant %q", got, want)
	}
	mon := time.Date(2026, 3, 9, 10, 0, 0, 0, loc)
	if got := p.Estimate("c", 20, 5, mon).String(); got != "all letters delivered within about a minute of sending hours (08:00-19:00 mon,tue,wed,thu,fri Europe/London), each as its own email" {
		t.Errorf("open: %q", got)
	}
	h := store.QueueHead{Campaign: "c", Queued: 700, QueuedAt: sat.Add(-2 * time.Hour)}
	if at, _, ok := p.NextDigest(h, sat); !ok || !at.Equal(time.Date(2026, 3, 9, 8, 0, 0, 0, loc)) {
		t.Errorf("next digest %s, want Monday 08:00", at.In(loc))
	}
}

// While sending is paused or held the estimate and the next digest say the
// same thing (issue 26, item 8); running, letters that all go alone announce
// no digest.
func TestPlanWhileHeld(t *testing.T) {
	now := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	p := &Policy{Cap: 30, Mode: delivery.Overflow, After: time.Hour, Max: 500}
	fresh := []store.QueueHead{{TargetID: "t", Campaign: "c", Queued: 3, Due: true, QueuedAt: now.Add(-10 * time.Minute)}}
	run := p.Plan(fresh, 5, now, false)[0]
	if run.Estimate.String() != "all letters delivered within about a minute, each as its own email" || !run.NextDigestAt.IsZero() {
		t.Errorf("running: %q, next digest %s", run.Estimate, run.NextDigestAt)
	}
	held := p.Plan(fresh, 5, now, true)[0]
	if got := held.Estimate.String(); got != "none until sending resumes; then all letters delivered within about a minute, each as its own email, if it resumes before 14:50 UTC (after that, in 1 digest)" {
		t.Errorf("held: %q", got)
	}
	if !held.Held || held.DigestDue || !held.NextDigestAt.Equal(now.Add(50*time.Minute)) || held.NextDigestFor != 3 {
		t.Errorf("held: next digest %+v", held)
	}
	old := []store.QueueHead{{TargetID: "t", Campaign: "c", Queued: 3, Due: true, QueuedAt: now.Add(-2 * time.Hour)}}
	aged := p.Plan(old, 5, now, true)[0]
	if got := aged.Estimate.String(); got != "none until sending resumes; then all letters delivered within about a minute, in 1 digest" || !aged.DigestDue {
		t.Errorf("held, waited 2 h: %q, due %v", got, aged.DigestDue)
	}
}
