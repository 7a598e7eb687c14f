package store

import (
	"bytes"
	"context"
	"testing"
)

// A campaign's image is stored whole and replaced by the next upload.
func TestCampaignImageSaveAndReplace(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.CampaignImage(ctx, "c"); ok || err != nil {
		t.Fatalf("image before any upload: %v %v", ok, err)
	}
	data := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}
	for i, etag := range []string{"a1", "b2"} {
		data[5] = byte(i)
		if err := s.SaveCampaignImage(ctx, CampaignImage{Campaign: "c", ContentType: "image/png", Data: data, ETag: etag, Width: 3, Height: 2}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.CampaignImage(ctx, "c")
		if err != nil || !ok || got.ETag != etag || !bytes.Equal(got.Data, data) || got.Width != 3 || got.ContentType != "image/png" {
			t.Fatalf("upload %d read back as %+v %v %v", i, got, ok, err)
		}
	}
}
