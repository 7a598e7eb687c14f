// Package preview draws a campaign's link-preview image: the 1200×630 PNG
// that Facebook, X, WhatsApp and LinkedIn show beside a shared link (they
// show nothing for an SVG). It is drawn in Go from the campaign's words,
// so every campaign has one without an image editor.
package preview

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Size of the image: the 1.91:1 size every network takes.
const (
	Width  = 1200
	Height = 630
)

var (
	background = color.RGBA{0x6b, 0x0f, 0x1a, 0xff} // the pages' dark red
	white      = color.RGBA{0xff, 0xff, 0xff, 0xff}
	pink       = color.RGBA{0xff, 0xd7, 0xdc, 0xff}
)

// PNG draws headline in large bold letters, wrapped and made smaller until
// it fits, and byline in smaller letters below, inside a white frame.
func PNG(headline, byline string) ([]byte, error) { return PNGOver(nil, headline, byline) }

// PNGOver is PNG drawn over photo (the campaign's own image), scaled to
// cover the whole preview and darkened so that the words stay readable;
// photo nil is PNG.
func PNGOver(photo image.Image, headline, byline string) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	if photo != nil {
		cover(img, photo)
		shade := color.RGBA{0x6b / 3, 0x0f / 3, 0x1a / 3, 0xaa} // the dark red, two-thirds opaque (premultiplied)
		draw.Draw(img, img.Bounds(), image.NewUniform(shade), image.Point{}, draw.Over)
	}
	frame(img, 40, 6)

	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	const textWidth = 1000
	top, bottom := 90, 500 // the headline's area; the byline goes below
	if strings.TrimSpace(byline) == "" {
		bottom = 560
	}
	// The largest size at which the headline fits the area.
	var face font.Face
	var lines []string
	var lineHeight int
	for size := 84.0; ; size -= 4 {
		face, err = opentype.NewFace(bold, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
		lineHeight = int(size * 1.25)
		lines = wrap(face, headline, textWidth)
		if len(lines)*lineHeight <= bottom-top || size <= 28 {
			break
		}
		face.Close()
	}
	defer face.Close()
	y := top + (bottom-top-len(lines)*lineHeight)/2 + lineHeight*4/5
	for _, l := range lines {
		centered(img, face, white, l, y)
		y += lineHeight
	}
	if byline = strings.TrimSpace(byline); byline != "" {
		small, err := opentype.NewFace(regular, &opentype.FaceOptions{Size: 34, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
		defer small.Close()
		bl := wrap(small, byline, textWidth)
		if len(bl) > 1 {
			bl = []string{strings.TrimRight(bl[0], " ,;:") + "…"}
		}
		centered(img, small, pink, bl[0], 548)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return buf.Bytes(), nil
}

// cover scales photo to fill dst, cropping what overflows, centred.
func cover(dst *image.RGBA, photo image.Image) {
	b := photo.Bounds()
	if b.Dx() == 0 || b.Dy() == 0 {
		return
	}
	// The part of photo with the preview's proportions.
	src := b
	if b.Dx()*Height > b.Dy()*Width { // wider: crop the sides
		w := b.Dy() * Width / Height
		src.Min.X += (b.Dx() - w) / 2
		src.Max.X = src.Min.X + w
	} else {
		h := b.Dx() * Height / Width
		src.Min.Y += (b.Dy() - h) / 2
		src.Max.Y = src.Min.Y + h
	}
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), photo, src, xdraw.Src, nil)
}

// frame draws a white rectangle inset by margin, width px thick.
func frame(img *image.RGBA, margin, width int) {
	u := image.NewUniform(white)
	r := image.Rect(margin, margin, Width-margin, Height-margin)
	for _, side := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+width)},
		{image.Pt(r.Min.X, r.Max.Y-width), r.Max},
		{r.Min, image.Pt(r.Min.X+width, r.Max.Y)},
		{image.Pt(r.Max.X-width, r.Min.Y), r.Max},
	} {
		draw.Draw(img, side, u, image.Point{}, draw.Src)
	}
}

// wrap breaks text into lines no wider than width (a longer word is a
// line of its own).
func wrap(face font.Face, text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if line != "" && font.MeasureString(face, try).Ceil() > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func centered(img *image.RGBA, face font.Face, c color.Color, s string, baseline int) {
	w := font.MeasureString(face, s)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face,
		Dot: fixed.Point26_6{X: (fixed.I(Width) - w) / 2, Y: fixed.I(baseline)}}
	d.DrawString(s)
}
