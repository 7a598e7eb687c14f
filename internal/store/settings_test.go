package store

import (
	"context"
	"testing"
)

func TestSecretIsStable(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, err := s.Secret(ctx, "x")
	if err != nil || len(a) < 32 {
		t.Fatalf("secret %q, %v", a, err)
	}
	b, _ := s.Secret(ctx, "x")
	c, _ := s.Secret(ctx, "y")
	if string(a) != string(b) || string(a) == string(c) {
		t.Fatal("a secret must be stable per name and differ between names")
	}
}
