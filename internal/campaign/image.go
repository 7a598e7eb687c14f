package campaign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"mime"
	"strings"

	_ "golang.org/x/image/webp" // decodes WebP uploads

	"github.com/outcry/outcry/internal/store"
)

// A campaign's own image: uploaded in the console or through
// PUT /admin/api/campaigns/{slug}/image, checked by decoding it (never by
// its name), re-encoded (which drops EXIF, GPS and every other metadata),
// and stored in the database so that every instance serves it.

// Limits on an uploaded image.
const (
	MaxImageBytes  = 5 << 20 // 5 MB as uploaded
	maxImagePixels = 40_000_000
	maxImageSide   = 10_000
)

// ImageError is an upload refused: not an image outcry takes, or too big.
type ImageError struct{ Reason string }

func (e *ImageError) Error() string { return "campaign: image: " + e.Reason }

// imageKinds are the formats taken, by the name image.Decode gives them,
// with their MIME type.
var imageKinds = map[string]string{"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

// NormalizeImage decodes data, checks that it is a JPEG, PNG or WebP image
// of a sane size and (when ctype is given) of the type it claims, and
// re-encodes it without metadata: JPEG stays JPEG, PNG and WebP become PNG
// (the standard library writes no WebP).
func NormalizeImage(data []byte, ctype string) (store.CampaignImage, error) {
	if len(data) == 0 {
		return store.CampaignImage{}, &ImageError{"the upload is empty"}
	}
	if len(data) > MaxImageBytes {
		return store.CampaignImage{}, &ImageError{fmt.Sprintf("it is %.1f MB; the limit is 5 MB", float64(len(data))/(1<<20))}
	}
	cfg, kind, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return store.CampaignImage{}, &ImageError{"it is not a JPEG, PNG or WebP image"}
	}
	mt, ok := imageKinds[kind]
	if !ok {
		return store.CampaignImage{}, &ImageError{"it is a " + kind + " image; outcry takes JPEG, PNG or WebP"}
	}
	if ctype != "" {
		claimed, _, err := mime.ParseMediaType(ctype)
		if err == nil && claimed == "image/jpg" {
			claimed = "image/jpeg"
		}
		if err != nil || (claimed != mt && claimed != "application/octet-stream") {
			return store.CampaignImage{}, &ImageError{fmt.Sprintf("it says it is %s but it is %s", strings.TrimSpace(ctype), mt)}
		}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxImageSide || cfg.Height > maxImageSide ||
		cfg.Width*cfg.Height > maxImagePixels {
		return store.CampaignImage{}, &ImageError{fmt.Sprintf("it is %d×%d pixels; the limit is %d on a side and 40 megapixels", cfg.Width, cfg.Height, maxImageSide)}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return store.CampaignImage{}, &ImageError{"it does not decode whole: " + err.Error()}
	}
	var out bytes.Buffer
	if kind == "jpeg" {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 88})
	} else {
		mt = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	}
	if err != nil {
		return store.CampaignImage{}, fmt.Errorf("campaign: image: encode: %w", err)
	}
	sum := sha256.Sum256(out.Bytes())
	b := img.Bounds()
	return store.CampaignImage{ContentType: mt, Data: out.Bytes(), ETag: hex.EncodeToString(sum[:16]),
		Width: b.Dx(), Height: b.Dy()}, nil
}

// ImagePath is where a campaign's uploaded image is served; v changes with
// every upload, so that the image may be cached for a year.
func ImagePath(slug, etag string) string { return Path(slug) + "/image?v=" + etag }

// SetImage makes data (checked and re-encoded by NormalizeImage) the image
// of the campaign slug, with alt as its description ("" keeps the one it
// has, or takes the campaign's title). An *ImageError says what is wrong
// with the upload.
func (s *Service) SetImage(ctx context.Context, slug string, data []byte, ctype, alt string) (*Campaign, error) {
	c, ok := s.Get(slug)
	if !ok {
		return nil, ErrNotFound
	}
	img, err := NormalizeImage(data, ctype)
	if err != nil {
		return nil, err
	}
	img.Campaign = slug
	if err := s.store.SaveCampaignImage(ctx, img); err != nil {
		return nil, err
	}
	if alt = strings.TrimSpace(alt); alt == "" {
		alt = c.Image.Alt
	}
	if alt == "" {
		alt = c.Title
	}
	src := ImagePath(slug, img.ETag)
	return s.Update(ctx, slug, Input{ImageSrc: &src, ImageAlt: &alt})
}

// Image reads the campaign's uploaded image; ok is false when it has none.
func (s *Service) Image(ctx context.Context, slug string) (store.CampaignImage, bool, error) {
	return s.store.CampaignImage(ctx, slug)
}
