package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/campaign"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/store"
)

// The digests page lists a campaign's digests and, for one, its letters.
func TestDigestsPage(t *testing.T) {
	e := newEnv(t)
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
	c := &Console{d: Deps{Store: e.store, Campaigns: campaign.NewStatic(e.camp), Sender: e.sender, Templates: os.DirFS("../../templates")}, auth: &auth{}}
	ec := echo.New()
	get := func(url string) (int, string) {
		rec := httptest.NewRecorder()
		err := c.digestsPage(ec.NewContext(httptest.NewRequest(http.MethodGet, url, nil), rec))
		if he, ok := err.(*echo.HTTPError); ok {
			return he.Code, ""
		} else if err != nil {
			t.Fatal(err)
		}
		return rec.Code, rec.Body.String()
	}
	code, body := get("/admin/digests?campaign=" + slug)
	if code != 200 || !strings.Contains(body, "<td>t1</td><td class=\"num\">2</td><td>sent</td>") {
		t.Fatalf("%d %s", code, body)
	}
	code, body = get("/admin/digests?id=" + strconv.FormatInt(ds[0].ID, 10))
	if code != 200 || strings.Count(body, `href="/admin/messages/`) != 2 {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ := get("/admin/digests?campaign=Bad%20Slug"); code != 404 {
		t.Fatalf("bad slug: %d", code)
	}
}
