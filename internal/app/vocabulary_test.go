package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/sendlog"
)

// The send log's status words are spelled once, in the vocabulary package:
// everywhere else in the Go tree a status is one of its constants (the
// store's SQL builds its literals from them, statuses.go). A string literal
// that is a status word ("sent"), or holds one as an SQL literal
// ('queued'), fails here with its place. Tests, the migrations (SQL files)
// and the templates are not Go code under this check; struct tags (JSON
// field names) are not literals.
func TestNoStatusWordSpelledByHand(t *testing.T) {
	const vocabulary = "internal/sendlog"
	// Display text that happens to be a status word, with why it is not
	// a status: keep this list short.
	allowed := map[string]string{
		`cmd/outcry-bench/openrun.go "sent"`:    "a column heading of the benchmark's table",
		`cmd/outcry-bench/openrun.go "queued"`:  "a column heading of the benchmark's table",
		`internal/web/receipt.go "failed"`:      "the receipt page's ?emailed=failed, a URL value, not a status",
		`internal/admin/console.go "cancelled"`: "the console's flash key in the URL after a cancel, not a status",
		`internal/admin/sendlog.go "cancelled"`: "the console's flash key in the URL after a cancel, not a status",
		`internal/store/webhooks.go "failed"`:   "a webhook delivery's status (internal/outhook's deliveries), not a message's",
	}
	words := make([]string, len(sendlog.All))
	for i, s := range sendlog.All {
		words[i] = string(s)
	}
	fset := token.NewFileSet()
	var found []string
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel("../..", path)
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, vocabulary+"/") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			tags := map[*ast.BasicLit]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				if fl, ok := n.(*ast.Field); ok && fl.Tag != nil {
					tags[fl.Tag] = true
				}
				return true
			})
			for _, imp := range f.Imports {
				tags[imp.Path] = true
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || tags[lit] {
					return true
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				hit := slices.Contains(words, v)
				for _, w := range words {
					hit = hit || strings.Contains(v, "'"+w+"'")
				}
				if hit {
					if _, ok := allowed[rel+" "+lit.Value]; !ok {
						found = append(found, fset.Position(lit.Pos()).String()+": "+lit.Value)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) > 0 {
		t.Errorf("status words spelled by hand (use the constants of %s):\n%s", vocabulary, strings.Join(found, "\n"))
	}
}
