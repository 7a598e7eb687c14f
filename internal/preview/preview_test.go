package preview

import (
	"bytes"
	"image/png"
	"os"
	"strings"
	"testing"
)

func TestPNG(t *testing.T) {
	for name, words := range map[string][2]string{
		"bundled":      {"Teenage sexual exploitation is not 'edgy' entertainment", "Netflix is normalizing sexual exploitation of minors"},
		"long":         {strings.Repeat("A very long headline that must shrink ", 8), strings.Repeat("and a byline too long for one line ", 4)},
		"no byline":    {"Short", ""},
		"one big word": {strings.Repeat("W", 80), "x"},
	} {
		b, err := PNG(words[0], words[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		if r := img.Bounds(); r.Dx() != Width || r.Dy() != Height {
			t.Fatalf("%s: %v, want 1200×630", name, r)
		}
		// Text was drawn: some white pixels inside the frame.
		white := 0
		for y := 60; y < Height-60; y += 2 {
			for x := 60; x < Width-60; x += 2 {
				if r, g, b, _ := img.At(x, y).RGBA(); r > 0xf000 && g > 0xf000 && b > 0xf000 {
					white++
				}
			}
		}
		if white < 500 {
			t.Errorf("%s: %d white pixels inside the frame: no headline drawn", name, white)
		}
		if dir := os.Getenv("OUTCRY_SCREENSHOTS"); dir != "" && name == "bundled" {
			os.WriteFile(dir+"/preview.png", b, 0o644)
		}
	}
}
