package campaign

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, x%30, color.RGBA{200, 10, 10, 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF puts an APP1 (Exif) segment carrying a GPS-like marker right
// after the JPEG's SOI.
func withEXIF(j []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), []byte("GPSLatitude=51.5;secret-camera-serial")...)
	seg := []byte{0xff, 0xe1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, j[2:]...)
}

// An upload is checked by decoding it, re-encoded without its metadata,
// and refused (an *ImageError) when it is not a JPEG, PNG or WebP image
// or is not what its Content-Type says.
func TestNormalizeImage(t *testing.T) {
	j := withEXIF(testJPEG(t))
	if !bytes.Contains(j, []byte("secret-camera-serial")) {
		t.Fatal("the test image has no metadata to strip")
	}
	got, err := NormalizeImage(j, "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if got.ContentType != "image/jpeg" || got.Width != 40 || got.Height != 30 || got.ETag == "" {
		t.Fatalf("normalized: %s %dx%d etag %q", got.ContentType, got.Width, got.Height, got.ETag)
	}
	if bytes.Contains(got.Data, []byte("Exif")) || bytes.Contains(got.Data, []byte("secret-camera-serial")) {
		t.Fatal("the stored image still carries the upload's metadata")
	}
	webp, err := os.ReadFile("testdata/small.webp")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NormalizeImage(webp, "image/webp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(w.Data)); err != nil || w.ContentType != "image/png" {
		t.Fatalf("a WebP upload is stored as %s (%v)", w.ContentType, err)
	}

	var gif bytes.Buffer
	gif.WriteString("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	for name, c := range map[string]struct {
		data  []byte
		ctype string
	}{
		"text renamed .png":      {[]byte("this is not an image, whatever its name says"), "image/png"},
		"jpeg said to be png":    {testJPEG(t), "image/png"},
		"empty":                  {nil, "image/png"},
		"truncated jpeg":         {testJPEG(t)[:200], "image/jpeg"},
		"a gif":                  {gif.Bytes(), "image/gif"},
		"over 5 MB":              {append(testJPEG(t), make([]byte, MaxImageBytes)...), "image/jpeg"},
		"svg (scripts can hide)": {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml"},
	} {
		_, err := NormalizeImage(c.data, c.ctype)
		var ie *ImageError
		if !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an ImageError", name, err)
		}
	}
}
