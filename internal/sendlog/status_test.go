package sendlog

import (
	"slices"
	"testing"
)

func TestRankAndBelow(t *testing.T) {
	if !(Queued.Rank() < Sent.Rank() && Sent.Rank() < Deferred.Rank() && Deferred.Rank() < Delivered.Rank() &&
		Delivered.Rank() < Bounced.Rank()) || Failed.Rank() != 0 {
		t.Fatal("ranks out of order")
	}
	if got := Delivered.Below(); !slices.Equal(got, []Status{Queued, Sending, Sent, Deferred, Failed}) {
		t.Fatalf("below delivered: %v", got)
	}
	if got := SpamReport.Below(); slices.Contains(got, SpamReport) || slices.Contains(got, Cancelled) || !slices.Contains(got, Delivered) {
		t.Fatalf("below spamreport: %v", got)
	}
	if SQLList(Queued, Sending) != "'queued', 'sending'" {
		t.Fatal(SQLList(Queued, Sending))
	}
	if !Status("sent").Valid() || Status("lost").Valid() || Queued.Final() || !Failed.Final() {
		t.Fatal("valid/final")
	}
}
