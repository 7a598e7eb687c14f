package admin

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// upload posts the console's image form with a file named name.
func (e *env) upload(slug, name string, data []byte) resp {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", e.csrf)
	w.WriteField("image_alt", "Our banner")
	fw, _ := w.CreateFormFile("image", name)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", e.http.URL+"/admin/campaigns/"+slug+"/image", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

// The console's campaign page takes an image upload: a file that does not
// decode is refused with a message on the page whatever its name; an image
// becomes the campaign's, described by the alt text given.
func TestConsoleImageUpload(t *testing.T) {
	e := newEnv(t)
	e.login()
	slug := e.camp.Slug
	if page := e.get("/admin/campaigns/" + slug); !strings.Contains(page.body, `enctype="multipart/form-data"`) || !strings.Contains(page.body, `type="file"`) {
		t.Fatal("the campaign page has no image upload")
	}
	r := e.upload(slug, "banner.png", []byte("just text, renamed .png"))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "cannot be used") {
		t.Fatalf("a text file named .png: %d, want 422 with a message", r.status)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	var b bytes.Buffer
	png.Encode(&b, img)
	if r := e.upload(slug, "banner.png", b.Bytes()); r.status != http.StatusSeeOther {
		t.Fatalf("a PNG: %d %s", r.status, r.body)
	}
	page := e.get("/admin/campaigns/" + slug)
	if !strings.Contains(page.body, `src="/c/`+slug+`/image?v=`) || !strings.Contains(page.body, `alt="Our banner"`) {
		t.Fatal("the campaign page does not show the uploaded image")
	}
}

// With two campaigns the campaign switcher sits inside the header (axe
// "region": it stood outside every landmark; issue 26).
func TestSwitcherInALandmark(t *testing.T) {
	e := newEnv(t)
	body := `{"slug":"second","title":"Second","story":"S.","subject":"S","body":"B."}`
	req, _ := http.NewRequest("POST", e.http.URL+"/admin/api/campaigns", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	e.login()
	page := e.get("/admin").body
	sw, head := strings.Index(page, `class="switcher"`), strings.Index(page, "</header>")
	if sw < 0 || head < 0 || sw > head {
		t.Fatalf("the switcher (at %d) is not inside the header (ends at %d)", sw, head)
	}
}
