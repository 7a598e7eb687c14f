package letter

import (
	"testing"
	"time"
)

// The sign path counts as busy while a letter is in it and for a moment
// after one arrived, so that the sender does not take full batches in the
// gaps between letters arriving a millisecond apart.
func TestGateBusyWhileLettersArrive(t *testing.T) {
	g := NewGate(2)
	if g.Busy() {
		t.Fatal("a gate no letter entered is busy")
	}
	if !g.Enter() {
		t.Fatal("the first letter was refused")
	}
	if !g.Busy() {
		t.Fatal("not busy with a letter in the sign path")
	}
	g.Leave()
	if !g.Busy() {
		t.Fatal("not busy just after a letter left: the sender would take a full batch between two letters")
	}
	time.Sleep(busyFor + 50*time.Millisecond)
	if g.Busy() {
		t.Fatalf("still busy %s after the last letter", busyFor+50*time.Millisecond)
	}
}
