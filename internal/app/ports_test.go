package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Consumers hold the store through the ports they declare (ports.go); in
// internal/ only the assembly (this package), the tests' fixtures
// (internal/testkit) and the store itself name
// *store.Store (cmd/ is wiring and may). A consumer that takes the concrete
// type again fails here, with its place.
func TestOnlyTheAssemblyHoldsTheConcreteStore(t *testing.T) {
	const storePath = "github.com/outcry/outcry/internal/store"
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir("../../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel("../..", filepath.Dir(path))
		// internal/testkit opens stores for the tests, as the assembly
		// does for the service.
		if rel = filepath.ToSlash(rel); rel == "internal/app" || rel == "internal/store" || strings.HasPrefix(rel, "internal/store/") || rel == "internal/testkit" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		name := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == storePath {
				name = "store"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			star, ok := n.(*ast.StarExpr)
			if !ok {
				return true
			}
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Store" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == name {
					found = append(found, fset.Position(star.Pos()).String())
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range found {
		t.Errorf("%s: a consumer names *store.Store; declare the port it needs in its own package instead", at)
	}
}
