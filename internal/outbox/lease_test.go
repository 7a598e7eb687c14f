package outbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
	"github.com/outcry/outcry/internal/target"
)

// outcry restarted after a crash on the same machine takes over at its
// first renewal and gets the crashed sender's claims back at once; a
// sender on another machine, or a live process, is waited for.
func TestRestartAfterACrashTakesOverAtOnce(t *testing.T) {
	ctx := context.Background()
	reg, err := target.NewRegistry("../../targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	id := reg.Current().All[0].ID
	// A process of this machine that has ended: the crashed sender.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("cannot run a child process:", err)
	}
	host, _ := os.Hostname()
	for _, c := range []struct {
		name, owner string
		takesOver   bool
	}{
		{"another machine's sender", "elsewhere.example/1/x", false},
		{"a live process here", host + "/" + strconv.Itoa(os.Getppid()) + "/x", false},
		{"a crashed process here", host + "/" + strconv.Itoa(gone.Process.Pid) + "/x", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := store.Open(ctx, pgtest.DB(t, filepath.Join(t.TempDir(), "lease.db")))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, _, err := st.WriteLetter(ctx, store.NewSupporter{Campaign: "c", Email: "a@example.org", FirstName: "A", LastName: "B",
				Subject: "s", Body: "b"}, []string{id}); err != nil {
				t.Fatal(err)
			}
			if l, err := st.RenewLease(ctx, c.owner, time.Minute); err != nil || !l.Leader {
				t.Fatalf("%s does not lead: %+v %v", c.owner, l, err)
			}
			claimed, err := st.Claim(ctx, c.owner, 1, []store.ClaimTarget{{ID: id, Email: "x@example.com", Limit: 1}})
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim as %s: %d %v", c.owner, len(claimed), err)
			}
			l, err := NewOutbox(st, reg, nil).Renew(ctx, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if l.Leader != c.takesOver || (l.Requeued == 1) != c.takesOver {
				t.Fatalf("restarted outcry: leader %v, requeued %d; want the lead and the claim back: %v", l.Leader, l.Requeued, c.takesOver)
			}
		})
	}
}
