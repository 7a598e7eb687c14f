package outhook

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
)

// Deliveries that outcry made verify with the specification's JavaScript
// reference library, standardwebhooks 1.3.0 (testdata/package.json), run
// by Node; the same deliveries with one byte changed do not. Skipped
// without Node or the library (npm ci --prefix internal/outhook/testdata),
// unless OUTCRY_REQUIRE_NODE is set (CI), where that fails.
func TestReferenceLibraryVerifies(t *testing.T) {
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join("testdata", "node_modules", "standardwebhooks", "package.json"))
	if err != nil || modErr != nil {
		if os.Getenv("OUTCRY_REQUIRE_NODE") != "" {
			t.Fatalf("OUTCRY_REQUIRE_NODE is set but node (%v) or standardwebhooks (%v) is missing: npm ci --prefix internal/outhook/testdata", err, modErr)
		}
		t.Skip("node or standardwebhooks missing (npm ci --prefix internal/outhook/testdata); set OUTCRY_REQUIRE_NODE to fail instead")
	}
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	rcv := newReceiver(t, nil)
	e := endpoint(t, st, rcv.URL, true, hookevent.LetterCreated, hookevent.SupporterErased, hookevent.CampaignUpdated)
	if _, _, err := st.WriteLetter(context.Background(), store.NewSupporter{Campaign: "demo", Email: "zoë@example.org", FirstName: "Zoë", LastName: "Ørsted «quoted» \"name\"",
		Subject: "s", Body: "b", Source: "share-mastodon"}, []string{"t1"}); err != nil {
		t.Fatal(err)
	}
	writeLetter(t, st, "ada@example.org")
	st.EraseSupporter(context.Background(), "ada@example.org", "")
	svc := &Service{Store: st, Insecure: true}
	if err := svc.SendTest(context.Background(), e.ID); err != nil {
		t.Fatal(err)
	}
	stop := run(t, st, Options{Insecure: true})
	waitStatus(t, st, e.ID, store.HookSucceeded)
	stop()
	got := rcv.all()
	if len(got) != 3 { // letter.created of Zoë, supporter.erased of Ada (her letter.created was dropped), the test
		t.Fatalf("%d deliveries", len(got))
	}
	type delivery struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
		Expect  string            `json:"expect"`
	}
	in := struct {
		Secret     string     `json:"secret"`
		Deliveries []delivery `json:"deliveries"`
	}{Secret: e.Secret}
	for _, g := range got {
		h := map[string]string{"webhook-id": g.Headers["webhook-id"], "webhook-timestamp": g.Headers["webhook-timestamp"], "webhook-signature": g.Headers["webhook-signature"]}
		in.Deliveries = append(in.Deliveries, delivery{Headers: h, Body: g.Body, Expect: "valid"})
		in.Deliveries = append(in.Deliveries, delivery{Headers: h, Body: strings.Replace(g.Body, `"data"`, `"Data"`, 1), Expect: "invalid"})
	}
	file := filepath.Join(t.TempDir(), "deliveries.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "verify.js", file)
	cmd.Dir = "testdata"
	out, err := cmd.CombinedOutput()
	t.Logf("standardwebhooks says:\n%s", out)
	if err != nil {
		t.Fatalf("node verify.js: %v", err)
	}
	if n := strings.Count(string(out), ": valid, expected valid"); n != len(got) {
		t.Fatalf("%d deliveries verified, want %d", n, len(got))
	}
}
