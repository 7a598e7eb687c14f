package confirm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/outcry/outcry/internal/delivery"
)

func TestDryRunLinksKeptForTheConsole(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// A live mailer: nothing is kept (the link went by email).
	f.write(t, "live@example.org")
	if got := f.svc.DryRunLinks(); len(got) != 0 {
		t.Fatalf("live mailer kept %d links", len(got))
	}
	f.svc.Mailer = delivery.NewDryRun(slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.svc.Limiter = rate.NewLimiter(rate.Inf, 1)
	for i := range dryRunKeep + 5 {
		f.write(t, fmt.Sprintf("s%d@example.org", i))
	}
	got := f.svc.DryRunLinks()
	if len(got) != dryRunKeep {
		t.Fatalf("kept %d links, want the last %d", len(got), dryRunKeep)
	}
	var newest int64
	for i, l := range got {
		if i > 0 && l.SupporterID >= got[i-1].SupporterID {
			t.Fatalf("not newest first: %v", got)
		}
		if strings.Contains(l.Link, "@") || !strings.HasPrefix(l.Link, "https://outcry.test/c/c/confirm?t=") {
			t.Fatalf("link %q", l.Link)
		}
		newest = max(newest, l.SupporterID)
	}
	// The newest link works.
	if res, err := f.svc.Confirm(ctx, "c", linkToken(got[0].Link)); err != nil || res != Confirmed {
		t.Fatalf("newest dry-run link: %v %v", res, err)
	}
	if newest != got[0].SupporterID {
		t.Fatal("newest is not first")
	}
}
