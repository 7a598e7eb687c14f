package docstest

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// markdownFiles are the files whose links are checked: README.md and
// docs/*.md, relative to the repository's root.
func markdownFiles(t *testing.T, dir string) []string {
	t.Helper()
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(dir, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(dir, d)
		files = append(files, filepath.ToSlash(rel))
	}
	sort.Strings(files)
	return files
}

var (
	fence      = regexp.MustCompile("^\\s*(```|~~~)")
	codeSpan   = regexp.MustCompile("`[^`]*`")
	inlineLink = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	heading    = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	htmlID     = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	// slugDrop is what GitHub removes from a heading's text to make its
	// anchor: everything but letters, marks, numbers, connector
	// punctuation (the underscore), spaces and hyphens.
	slugDrop = regexp.MustCompile(`[^\p{L}\p{M}\p{N}\p{Pc} -]`)
)

// slug is GitHub's anchor for a heading's text: inline markup reduced to its
// text, lower case, punctuation dropped, each space a hyphen.
func slug(text string) string {
	text = inlineLink.ReplaceAllString(text, "$1")
	text = strings.ToLower(text)
	text = slugDrop.ReplaceAllString(text, "")
	return strings.ReplaceAll(text, " ", "-")
}

// anchors returns the anchors of a Markdown text, as GitHub makes them: a
// heading's slug, with -1, -2… added to repeats, and explicit <a name/id>.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for _, m := range htmlID.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

type link struct {
	line   int
	target string
}

// links returns the inline links of a Markdown text outside code.
func links(text string) []link {
	var out []link
	inFence := false
	for i, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		line = codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, link{line: i + 1, target: m[2]})
		}
	}
	return out
}

// brokenLinks checks every internal link of files (paths relative to dir):
// the file it names exists, and its #anchor is a heading of that file.
func brokenLinks(dir string, files []string) ([]string, error) {
	texts := map[string]string{}
	read := func(rel string) (string, error) {
		if s, ok := texts[rel]; ok {
			return s, nil
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		texts[rel] = string(b)
		return string(b), nil
	}
	var broken []string
	for _, f := range files {
		text, err := read(f)
		if err != nil {
			return nil, err
		}
		for _, l := range links(text) {
			u, err := url.Parse(l.target)
			if err != nil {
				broken = append(broken, fmt.Sprintf("%s:%d: link %q: %v", f, l.line, l.target, err))
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // outside the repository: not checked here
			}
			target := f
			if u.Path != "" {
				target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f), u.Path)))
				if strings.HasPrefix(target, "../") {
					broken = append(broken, fmt.Sprintf("%s:%d: link %q leaves the repository", f, l.line, l.target))
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target))); err != nil {
					broken = append(broken, fmt.Sprintf("%s:%d: link %q: %s does not exist", f, l.line, l.target, target))
					continue
				}
			}
			if u.Fragment == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				broken = append(broken, fmt.Sprintf("%s:%d: link %q: an anchor in a file that is not Markdown", f, l.line, l.target))
				continue
			}
			ttext, err := read(target)
			if err != nil {
				return nil, err
			}
			if !anchors(ttext)[u.Fragment] {
				broken = append(broken, fmt.Sprintf("%s:%d: link %q: %s has no heading with the anchor #%s", f, l.line, l.target, target, u.Fragment))
			}
		}
	}
	return broken, nil
}

// TestInternalLinks: every relative link and #anchor in README.md and
// docs/*.md points at a file and a heading that exist.
func TestInternalLinks(t *testing.T) {
	dir := root(t)
	files := markdownFiles(t, dir)
	if len(files) < 5 {
		t.Fatalf("only %v found: the documentation is in docs/", files)
	}
	broken, err := brokenLinks(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Error(b)
	}
}

// TestSlug: GitHub's anchors for the kinds of heading our files have.
func TestSlug(t *testing.T) {
	for _, c := range []struct{ heading, want string }{
		{"Going live", "going-live"},
		{"Backups, erasure and moving from SQLite", "backups-erasure-and-moving-from-sqlite"},
		{"The latest runs, on a quiet machine (2 December 2026, load 0.5–3)", "the-latest-runs-on-a-quiet-machine-2-december-2026-load-053"},
		{"Moving a campaign from SQLite to PostgreSQL (`outcry db copy`)", "moving-a-campaign-from-sqlite-to-postgresql-outcry-db-copy"},
		{"Open loop: supporters arriving at a fixed rate (issues 10 and 17)", "open-loop-supporters-arriving-at-a-fixed-rate-issues-10-and-17"},
		{"See [the APIs](api.md) and OUTCRY_ADDR", "see-the-apis-and-outcry_addr"},
		{"Ünïcode stays", "ünïcode-stays"},
	} {
		if got := slug(c.heading); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.heading, got, c.want)
		}
	}
	a := anchors("# Top\n\n## Same\n\n```\n# not a heading\n```\n\n## Same\n")
	for _, want := range []string{"top", "same", "same-1"} {
		if !a[want] {
			t.Errorf("anchors: %q missing from %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Errorf("a line in a code block was taken for a heading")
	}
}

// TestBrokenLinksFound: the check reports a missing file, a missing anchor
// and a link that leaves the repository, and passes good links.
func TestBrokenLinksFound(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# R\n\n[a](docs/a.md#two-words) [b](docs/gone.md) [c](#nowhere) [d](https://example.org/x#y) `[e](docs/gone.md)`\n")
	write("docs/a.md", "# A\n\n## Two words\n\n[up](../README.md#r) [out](../../x.md) [bad](#two_words)\n")
	broken, err := brokenLinks(dir, []string{"README.md", "docs/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(broken, "\n")
	for _, want := range []string{`"docs/gone.md": docs/gone.md does not exist`, `"#nowhere": README.md has no heading`, `"../../x.md" leaves the repository`, `"#two_words": docs/a.md has no heading`} {
		if !strings.Contains(got, want) {
			t.Errorf("broken links:\n%s\nwant one with %s", got, want)
		}
	}
	if len(broken) != 4 {
		t.Errorf("%d broken links, want 4:\n%s", len(broken), got)
	}
}
