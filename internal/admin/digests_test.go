package admin

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
)

// The digests page lists a campaign's digests and, for one, its letters.
func TestDigestsPage(t *testing.T) {
	e := newEnv(t, withEmails(t))
	e.login()
	ctx := context.Background()
	slug := e.camp.Slug
	for _, email := range []string{"a@example.org", "b@example.org"} {
		if _, _, err := e.store.WriteLetter(ctx, store.NewSupporter{Campaign: slug, Email: email, FirstName: "A", LastName: "B",
			Subject: "s", Body: "b"}, []string{"t1"}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := e.store.ClaimDigests(ctx, "me", []store.DigestRequest{{Target: store.ClaimTarget{ID: "t1", Limit: 1}, Campaign: slug, Max: 10}})
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests %v (%v)", ds, err)
	}
	if err := e.store.FinishDigests(ctx, []delivery.Outcome{{ID: ds[0].ID, Digest: true, Status: "sent", Attempted: true, ProviderID: "x"}}); err != nil {
		t.Fatal(err)
	}
	r := e.get("/admin/digests?campaign=" + slug)
	if r.status != 200 || !strings.Contains(r.body, "<td>t1</td><td class=\"num\">2</td><td>sent</td>") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = e.get("/admin/digests?id=" + strconv.FormatInt(ds[0].ID, 10))
	if r.status != 200 || strings.Count(r.body, `href="/admin/messages/`) != 2 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.get("/admin/digests?campaign=Bad%20Slug"); r.status != 404 {
		t.Fatalf("bad slug: %d", r.status)
	}
}
