package sendlog

import "testing"

func TestStatusForAndHardProblem(t *testing.T) {
	tests := []struct {
		event, typ, reason string
		status             Status
		hard               bool
	}{
		{"processed", "", "", "", false},
		{"deferred", "", "", Deferred, false},
		{"delivered", "", "", Delivered, false},
		{"bounce", "bounce", "", Bounced, true},
		{"bounce", "", "", Bounced, true},
		{"bounce", "blocked", "", Bounced, false},
		{"dropped", "", "", Dropped, false},
		{"spamreport", "", "", SpamReport, true},
		{"open", "", "", "", false},
		{"click", "", "", "", false},
		{"unsubscribe", "", "", "", false},
		{"group_unsubscribe", "", "", "", false},
		{"", "", "", "", false},
		{"Delivered", "", "", "", false},
		// A drop because the address is suppressed or invalid: every further
		// message to it would be dropped too.
		{"dropped", "", "Bounced Address", Dropped, true},
		{"dropped", "", "Spam Reporting Address", Dropped, true},
		{"dropped", "", "Unsubscribed Address", Dropped, true},
		{"dropped", "", "Invalid", Dropped, true},
		{"dropped", "", " unsubscribed address ", Dropped, true},
		// A drop for this message or the account says nothing of the address.
		{"dropped", "", "Invalid SMTPAPI header", Dropped, false},
		{"dropped", "", "Spam Content (if spam checker app enabled)", Dropped, false},
		{"dropped", "", "Recipient List over Package Quota", Dropped, false},
		{"bounce", "blocked", "Bounced Address", Bounced, false},
	}
	for _, tt := range tests {
		e := Event{Event: tt.event, Type: tt.typ, Reason: tt.reason}
		if got := StatusFor(e); got != tt.status {
			t.Errorf("StatusFor(%s/%s) = %q, want %q", tt.event, tt.typ, got, tt.status)
		}
		if got := HardProblem(e); got != tt.hard {
			t.Errorf("HardProblem(%s/%s/%q) = %v, want %v", tt.event, tt.typ, tt.reason, got, tt.hard)
		}
	}
}

// A soft bounce (a temporary 4.x.x status) and a deferral are push-backs,
// which slow sending (package pushback); a soft bounce no longer flags the
// target at once, a hard one still does.
func TestPushback(t *testing.T) {
	tests := []struct {
		e          Event
		push, hard bool
	}{
		{Event{Event: "deferred", Response: "400 try again later"}, true, false},
		{Event{Event: "bounce", Type: "bounce", Status: "4.2.2", Reason: "mailbox full"}, true, false},
		{Event{Event: "bounce", Status: " 421 "}, true, false},
		{Event{Event: "bounce", Type: "blocked", Status: "4.7.0"}, true, false},
		{Event{Event: "bounce", Type: "bounce", Status: "5.1.1"}, false, true},
		{Event{Event: "bounce", Type: "bounce"}, false, true},
		{Event{Event: "delivered"}, false, false},
		{Event{Event: "dropped", Reason: "Bounced Address"}, false, true},
	}
	for _, tt := range tests {
		if got := Pushback(tt.e); got != tt.push {
			t.Errorf("Pushback(%+v) = %v, want %v", tt.e, got, tt.push)
		}
		if got := HardProblem(tt.e); got != tt.hard {
			t.Errorf("HardProblem(%+v) = %v, want %v", tt.e, got, tt.hard)
		}
	}
	if got := PushbackReason(Event{Event: "bounce", Status: "4.2.2", Reason: "mailbox full"}); got != "bounce 4.2.2: mailbox full" {
		t.Errorf("reason %q", got)
	}
	if got := PushbackReason(Event{Event: "deferred", Response: "400 try again later"}); got != "deferred: 400 try again later" {
		t.Errorf("reason %q", got)
	}
}

func TestRank(t *testing.T) {
	order := [][]Status{
		{Queued, Sending},
		{Sent},
		{Deferred},
		{Delivered},
		{Bounced, Dropped, SpamReport},
	}
	for i, group := range order {
		for _, s := range group {
			if s.Rank() != group[0].Rank() {
				t.Errorf("Rank(%s) = %d, want equal to Rank(%s) = %d", s, s.Rank(), group[0], group[0].Rank())
			}
			if i > 0 && s.Rank() <= order[i-1][0].Rank() {
				t.Errorf("Rank(%s) = %d, want above Rank(%s) = %d", s, s.Rank(), order[i-1][0], order[i-1][0].Rank())
			}
		}
	}
	if Failed.Rank() >= Queued.Rank() || Status("").Rank() >= Queued.Rank() {
		t.Error("unknown statuses should rank below queued")
	}
	// A late "deferred" must not undo "delivered"; a late bounce may.
	if StatusFor(Event{Event: "deferred"}).Rank() > Delivered.Rank() {
		t.Error("deferred after delivered would move backwards")
	}
	if StatusFor(Event{Event: "bounce"}).Rank() <= Delivered.Rank() {
		t.Error("bounce after delivered must apply")
	}
}

func TestHanded(t *testing.T) {
	for status, want := range map[Status]bool{
		"queued": false, "unconfirmed": false, "cancelled": false,
		"sending": true, "sent": true, "failed": true, "deferred": true, "delivered": true, "bounced": true,
	} {
		if got := Handed(status); got != want {
			t.Errorf("Handed(%s) = %v, want %v", status, got, want)
		}
	}
}
