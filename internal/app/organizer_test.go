package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/target"
)

// The second campaign's dashboard figures are its own (issue 26: it showed
// "5 active targets" where it has 2, and the first campaign's "Sent 10" per
// target beside its own "0 letters").
func TestSecondCampaignStatsAreItsOwn(t *testing.T) {
	_, base := start(t, nil)
	if r := call(t, "POST", base+"/admin/api/campaigns", "application/json", secondCampaign, true); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for i := range 2 {
		if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON(fmt.Sprintf("s%d@example.org", i)), false); r.status != http.StatusAccepted {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
	}
	var st struct {
		ActiveTargets int `json:"active_targets"`
		Targets       []struct {
			ID     string         `json:"id"`
			Counts map[string]int `json:"counts"`
		} `json:"targets"`
	}
	r := call(t, "GET", base+"/admin/api/stats?campaign=save-the-park", "", "", true)
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(r.status, r.body)
	}
	if st.ActiveTargets != 2 || len(st.Targets) != 2 {
		t.Fatalf("save-the-park: %d active targets, %d listed; it writes to 2: %s", st.ActiveTargets, len(st.Targets), r.body)
	}
	for _, tg := range st.Targets {
		for status, n := range tg.Counts {
			if n != 0 {
				t.Fatalf("save-the-park's target %s shows %d %s: another campaign's letters", tg.ID, n, status)
			}
		}
	}
	r = call(t, "GET", base+"/admin/api/stats?campaign=netflix-baby", "", "", true)
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(r.status, r.body)
	}
	total := 0
	for _, tg := range st.Targets {
		for _, n := range tg.Counts {
			total += n
		}
	}
	if total != 2*st.ActiveTargets || total == 0 {
		t.Fatalf("netflix-baby: %d messages over %d active targets, want 2 each: %s", total, st.ActiveTargets, r.body)
	}
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		for y := range 200 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// An organizer's own image through the admin API: checked by decoding,
// stored in the database, served from this site with a long cache and an
// ETag, shown on the page and used by the link preview. Anything else is
// 422, and an image on another site (which the CSP would block) is refused.
func TestCampaignImageUpload(t *testing.T) {
	_, base := start(t, nil)
	api := base + "/admin/api/campaigns/netflix-baby"
	_, before := get(t, base+"/c/netflix-baby/preview.png")

	for name, c := range map[string]struct{ ctype, body string }{
		"text renamed .png":   {"image/png", "this is not an image"},
		"jpeg called png":     {"image/png", string(jpegBytes(t))},
		"no body":             {"image/jpeg", ""},
		"an svg with scripts": {"image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`},
	} {
		if r := call(t, "PUT", api+"/image", c.ctype, c.body, true); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `"image"`) {
			t.Errorf("%s: %d %s, want 422 naming the image", name, r.status, r.body)
		}
	}
	if r := call(t, "PUT", api+"/image", "image/jpeg", string(jpegBytes(t)), false); r.status != http.StatusUnauthorized {
		t.Fatalf("upload without the token: %d", r.status)
	}
	r := call(t, "PUT", api+"/image?alt=A+gradient", "image/jpeg", string(jpegBytes(t)), true)
	if r.status != http.StatusOK {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var camp struct {
		Image struct{ Src, Alt string }
	}
	if err := json.Unmarshal([]byte(r.body), &camp); err != nil || !strings.HasPrefix(camp.Image.Src, "/c/netflix-baby/image?v=") || camp.Image.Alt != "A gradient" {
		t.Fatalf("campaign after upload: %s (%v)", r.body, err)
	}
	res, body := get(t, base+camp.Image.Src)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("ETag") == "" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Fatalf("image: %d %v", res.StatusCode, res.Header)
	}
	if _, err := jpeg.Decode(bytes.NewReader(body)); err != nil {
		t.Fatalf("served image does not decode: %v", err)
	}
	if res, _ := get(t, base+camp.Image.Src, "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d, want 304", res.StatusCode)
	}
	if r := call(t, "GET", base+"/c/netflix-baby", "", "", false); !strings.Contains(r.body, `src="`+strings.ReplaceAll(camp.Image.Src, "&", "&amp;")+`"`) {
		t.Fatalf("the campaign page does not show the uploaded image")
	}
	_, after := get(t, base+"/c/netflix-baby/preview.png")
	if bytes.Equal(before, after) {
		t.Fatal("the link preview did not change with the uploaded image")
	}
	if _, err := png.Decode(bytes.NewReader(after)); err != nil {
		t.Fatalf("preview: %v", err)
	}
	if r := call(t, "PATCH", api, "application/json", `{"image_src":"https://elsewhere.example/x.jpg"}`, true); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "image_src") {
		t.Fatalf("an image on another site: %d %s, want 422", r.status, r.body)
	}
}

type readinessStats struct {
	Readiness []struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Blocking bool   `json:"blocking"`
	} `json:"readiness"`
	SendingHeld bool `json:"sending_held"`
	QueueDepth  int  `json:"queue_depth"`
}

func readiness(t *testing.T, base string) readinessStats {
	t.Helper()
	var st readinessStats
	r := call(t, "GET", base+"/admin/api/stats", "", "", true)
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(r.status, r.body)
	}
	return st
}

// With SENDGRID_API_KEY set, the example's placeholder targets hold live
// sending (OUTCRY_READINESS=hold, the default): letters queue, nothing
// reaches SendGrid, the stats say why; once the targets are real the
// queued letters go. A request through a proxy not trusted is a warning.
// (issue 26: 8 emails went to @example.com while the banner said NOT READY.)
func TestPlaceholderTargetsHoldLiveSending(t *testing.T) {
	fake := sgfake.New()
	t.Cleanup(fake.Close)
	a, base := start(t, map[string]string{"SENDGRID_API_KEY": "SG.test", "OUTCRY_SENDGRID_URL": fake.URL(),
		"OUTCRY_FROM_EMAIL": "letters@campaign.org", "OUTCRY_BASE_URL": "https://write.campaign.org", "OUTCRY_SEND_RATE": "0", "OUTCRY_SPREAD": "off"})
	for i := range 2 {
		if r := call(t, "POST", base+"/api/v1/campaigns/netflix-baby/letters", "application/json", letterJSON(fmt.Sprintf("h%d@campaign.org", i)), false); r.status != http.StatusAccepted {
			t.Fatalf("letter: %d %s", r.status, r.body)
		}
	}
	if r := call(t, "GET", base+"/c/netflix-baby", "", "", false); strings.Contains(r.body, "Trial:") {
		t.Fatal("a live campaign page says it is a trial")
	}
	st := readiness(t, base)
	if !st.SendingHeld || len(st.Readiness) == 0 || st.Readiness[0].Code != "placeholder_targets" || !st.Readiness[0].Blocking {
		t.Fatalf("stats with placeholder targets: %+v", st)
	}
	codes := map[string]bool{}
	for _, p := range st.Readiness {
		codes[p.Code] = p.Blocking
	}
	if b, ok := codes["no_webhook_key"]; !ok || b {
		t.Fatalf("no webhook key should be a warning: %+v", st.Readiness)
	}
	// The sender polls every 500 ms; several polls pass and nothing goes.
	time.Sleep(1500 * time.Millisecond)
	if n := fake.Count(); n != 0 {
		t.Fatalf("%d emails reached SendGrid while sending was held", n)
	}
	if st := readiness(t, base); st.QueueDepth == 0 {
		t.Fatal("the letters are not queued while sending is held")
	}
	// A request from a private address with X-Forwarded-For: a proxy
	// outcry does not trust (loopback counts as private here).
	req, _ := http.NewRequest("GET", base+"/c/netflix-baby", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	found := false
	for _, p := range readiness(t, base).Readiness {
		found = found || (p.Code == "untrusted_proxy" && !p.Blocking)
	}
	if !found {
		t.Fatal("a request through a proxy not trusted is not reported")
	}

	if err := a.Targets.Update(func(all []target.Target) ([]target.Target, error) {
		for i := range all {
			all[i].Email = strings.Replace(all[i].Email, "@example.com", "@netflix-test.org", 1)
		}
		return all, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the held letters to be sent", func() bool { return readiness(t, base).QueueDepth == 0 && fake.Count() > 0 })
	if st := readiness(t, base); st.SendingHeld {
		t.Fatalf("still held with real targets: %+v", st)
	}
}

// Pages and CSS are compressed for a client that takes gzip, and static
// files may be cached (issue 26: Lighthouse noted neither).
func TestCompressionAndCacheHeaders(t *testing.T) {
	_, base := start(t, nil)
	for _, path := range []string{"/c/netflix-baby", "/static/style.css"} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: %d, Content-Encoding %q, want gzip", path, res.StatusCode, res.Header.Get("Content-Encoding"))
		}
		if strings.HasPrefix(path, "/static/") && !strings.Contains(res.Header.Get("Cache-Control"), "max-age=") {
			t.Errorf("%s: Cache-Control %q", path, res.Header.Get("Cache-Control"))
		}
	}
}

// In dry run the public pages say that nothing is sent (issue 26: the
// receipt said "Sent" and the thank-you page "We have emailed you a copy").
func TestDryRunSaidOnPublicPages(t *testing.T) {
	_, base := start(t, nil)
	for _, path := range []string{"/", "/c/netflix-baby", "/c/netflix-baby/thanks", "/privacy"} {
		if r := call(t, "GET", base+path, "", "", false); !strings.Contains(r.body, "Trial: no email leaves this server") {
			t.Errorf("%s (%d) does not say it is a trial", path, r.status)
		}
	}
}

// A closed campaign's page shows its result, and no form, no call to write
// and no share buttons (issue 26: they stood above "This campaign has ended").
func TestClosedCampaignPageHasNoCallToWrite(t *testing.T) {
	_, base := start(t, nil)
	open := call(t, "GET", base+"/c/netflix-baby", "", "", false).body
	for _, s := range []string{`href="#act"`, `class="share"`, `class="cta"`, "<form"} {
		if !strings.Contains(open, s) {
			t.Fatalf("the open page lacks %s: the test looks for the wrong thing", s)
		}
	}
	if r := call(t, "PATCH", base+"/admin/api/campaigns/netflix-baby", "application/json", `{"status":"closed"}`, true); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	closed := call(t, "GET", base+"/c/netflix-baby", "", "", false).body
	if !strings.Contains(closed, "This campaign has ended") {
		t.Fatal("the closed page does not say it ended")
	}
	for _, s := range []string{`href="#act"`, `class="share"`, `class="cta"`, `<form method="post" action="/c/netflix-baby"`} {
		if strings.Contains(closed, s) {
			t.Errorf("the closed page still has %s", s)
		}
	}
}

// A campaign made through the API or the console names its own organizer
// (issue 26: it took the example's, on the pages and in the digest).
func TestCampaignOrganizer(t *testing.T) {
	_, base := start(t, nil)
	body := strings.Replace(secondCampaign, `"goal":500}`, `"goal":500,"organizer_name":"Friends of the Park","organizer_contact":"park@friends.org"}`, 1)
	r := call(t, "POST", base+"/admin/api/campaigns", "application/json", body, true)
	if r.status != http.StatusCreated || !strings.Contains(r.body, `"organizer":{"name":"Friends of the Park","contact":"park@friends.org"}`) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if page := call(t, "GET", base+"/c/save-the-park", "", "", false).body; !strings.Contains(page, "Friends of the Park") {
		t.Fatal("the page does not name the campaign's organizer")
	}
}
