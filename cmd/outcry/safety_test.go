package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/privacy"
	"github.com/outcry/outcry/internal/store"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestConfirmationAndPrivacyEndToEnd runs the service with OUTCRY_CONFIRM=on
// in dry-run: the letter is held, the link appears in the log (by supporter
// id, without the address), following it sends the letter; then the
// supporter commands export and erase the address.
func TestConfirmationAndPrivacyEndToEnd(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"OUTCRY_DB":       filepath.Join(dir, "e2e.db"),
		"OUTCRY_TARGETS":  filepath.Join(dir, "targets.yaml"),
		"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"),
		"OUTCRY_CONFIRM":  "on",
	}
	cfg, err := config.Load(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.Build(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	resp, err := http.Post(base+"/api/v1/campaigns/netflix-baby/letters", "application/json", strings.NewReader(
		`{"first_name":"Ann","last_name":"Lee","email":"ann.e2e@example.org","subject":"Stop","body":"Please stop, e2e.","accept_privacy":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("sign: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`confirmation link" supporter=1 link="?http://localhost:8080(/c/netflix-baby/confirm\?t=[^"\s]+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no dry-run confirmation link in the log:\n%s", logs.String())
	}
	if counts, _ := a.Store.StatusCounts(ctx, "netflix-baby"); counts["unconfirmed"] != 4 {
		t.Fatalf("before confirmation: %v", counts)
	}
	// The link shows a button; its post confirms (a GET alone changes nothing).
	resp, err = http.Get(base + m[1])
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := regexp.MustCompile(`name="t" value="([^"]+)">\s*<input type="hidden" name="stamp" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != 200 || form == nil {
		t.Fatalf("confirm page: %d %s", resp.StatusCode, page)
	}
	if counts, _ := a.Store.StatusCounts(ctx, "netflix-baby"); counts["unconfirmed"] != 4 {
		t.Fatalf("the GET confirmed: %v", counts)
	}
	resp, err = http.PostForm(base+"/c/netflix-baby/confirm", url.Values{"t": {html.UnescapeString(string(form[1]))}, "stamp": {html.UnescapeString(string(form[2]))}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, _ := a.Store.StatusCounts(ctx, "netflix-baby")
		if counts["sent"] == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after confirmation: %v, want 4 sent", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "ann.e2e@example.org") || strings.Contains(logs.String(), "Please stop, e2e.") {
		t.Fatal("the log holds the supporter's address or letter")
	}

	var out, errb bytes.Buffer
	if code := run([]string{"supporter", "export", "ANN.e2e@example.org"}, env(vars), &out, &errb); code != 0 {
		t.Fatalf("export: %d %s", code, errb.String())
	}
	var exp struct {
		Supporters []struct {
			Email    string `json:"email"`
			Messages []struct {
				Body   string `json:"body"`
				Status string `json:"status"`
			} `json:"messages"`
		} `json:"supporters"`
	}
	if err := json.Unmarshal(out.Bytes(), &exp); err != nil || len(exp.Supporters) != 1 || len(exp.Supporters[0].Messages) != 4 ||
		!strings.Contains(exp.Supporters[0].Messages[0].Body, "Please stop, e2e.") {
		t.Fatalf("export: %v %s", err, out.String())
	}
	out.Reset()
	if code := run([]string{"supporter", "erase", "ann.e2e@example.org"}, env(vars), &out, io.Discard); code != 0 || !strings.Contains(out.String(), "erased 1") {
		t.Fatalf("erase: %d %s", code, out.String())
	}
	out.Reset()
	run([]string{"supporter", "export", "ann.e2e@example.org"}, env(vars), &out, io.Discard)
	if !strings.Contains(out.String(), `"supporters": []`) {
		t.Fatalf("export after erase: %s", out.String())
	}
	if code := run([]string{"supporter", "frob"}, env(vars), io.Discard, io.Discard); code != 2 {
		t.Fatalf("bad supporter command: %d", code)
	}
}

// TestPeriodicPurge runs the maintenance job once over old data: expired
// unconfirmed letters go, the text of long-finished messages goes, the rows stay.
func TestPeriodicPurge(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load(env(map[string]string{
		"OUTCRY_DB": filepath.Join(dir, "p.db"), "OUTCRY_TARGETS": filepath.Join(dir, "targets.yaml"),
		"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"), "OUTCRY_RETENTION_DAYS": "30",
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	past := time.Now().Add(-31 * 24 * time.Hour)
	a.Store.SetClock(func() time.Time { return past })
	one := []string{"t1"}
	a.Store.WriteLetter(ctx, store.NewSupporter{Campaign: "netflix-baby", Email: "old@example.org", FirstName: "A", LastName: "B",
		Subject: "old subject", Body: "old letter"}, one)
	a.Store.WriteLetter(ctx, store.NewSupporter{Campaign: "netflix-baby", Email: "unc@example.org", FirstName: "C", LastName: "D",
		Subject: "old subject", Body: "old letter", Status: store.SupporterUnconfirmed}, one)
	claimed, _ := a.Store.Claim(ctx, "test", 10, []store.ClaimTarget{{ID: "t1", Email: "t@example.com", Name: "T", Limit: 10}})
	if len(claimed) != 1 {
		t.Fatalf("claimed %d", len(claimed))
	}
	a.Store.FinishLeased(ctx, "", []delivery.Outcome{{ID: claimed[0].ID, Status: "sent", Attempted: true, ProviderID: "p"}})
	a.Store.SetClock(time.Now)
	a.Purge(ctx)
	exp, _ := (&privacy.Service{Store: a.Store}).Export(ctx, "old@example.org")
	if len(exp.Supporters) != 1 || exp.Supporters[0].Messages[0].Body != "" || exp.Supporters[0].Messages[0].Status != "sent" {
		t.Fatalf("retention: %+v", exp.Supporters)
	}
	if exp, _ := (&privacy.Service{Store: a.Store}).Export(ctx, "unc@example.org"); len(exp.Supporters) != 0 {
		t.Fatal("an expired unconfirmed letter was kept")
	}
	if n, _ := a.Store.SupporterCount(ctx, "netflix-baby"); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}
}
