package campaign

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	for slug, want := range map[string]string{
		"netflix-baby": "/c/netflix-baby",
		"a b/c?d#e":    "/c/a%20b%2Fc%3Fd%23e",
		"":             "/c/",
	} {
		if got := Path(slug); got != want {
			t.Errorf("Path(%q) = %q, want %q", slug, got, want)
		}
	}
	if got := (Campaign{Slug: "x y"}).Path(); got != "/c/x%20y" {
		t.Errorf("Campaign.Path = %q", got)
	}
}

// TestCampaignURLsAreBuiltByPath: no other Go file (tests aside) or template
// builds a campaign's address by hand, unescaped.
func TestCampaignURLsAreBuiltByPath(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		goFile := strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
		if !goFile && !strings.HasSuffix(path, ".html") {
			return nil
		}
		if filepath.ToSlash(path) == "../../internal/campaign/campaign.go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if goFile && strings.Contains(line, `"/c/"`) || strings.Contains(line, "/c/{{") {
				t.Errorf("%s:%d builds a campaign's address by hand: use campaign.Path (or .Path in a template): %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
