package docstest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// configTable is the file whose table lists every variable.
const configTable = "docs/configuration.md"

// varName is what an environment variable of outcry looks like.
var varName = regexp.MustCompile(`^(OUTCRY|SENDGRID)_[A-Z0-9_]+$`)

// root is the repository's top folder, two levels above this package.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", dir, err)
	}
	return dir
}

// reads holds, for each variable, the files that read it.
type reads map[string][]string

func (r reads) add(name, file string) {
	for _, f := range r[name] {
		if f == file {
			return
		}
	}
	r[name] = append(r[name], file)
}

// readVariables parses every Go package of the tree and returns the
// variables its code reads:
//   - in internal/config, every string literal that is a variable's name
//     (the parser reads them through p.str, p.int, p.check…);
//   - anywhere, the argument of os.Getenv, os.LookupEnv or a call of a
//     function value named getenv (cmd/outcry passes os.Getenv down), as a
//     literal or as a constant of the same package.
//
// With tests false, _test.go files are left out.
func readVariables(t *testing.T, dir string, tests bool) reads {
	t.Helper()
	found := reads{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != dir && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, path, func(fi fs.FileInfo) bool {
			return tests || !strings.HasSuffix(fi.Name(), "_test.go")
		}, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		for _, pkg := range pkgs {
			consts := map[string]string{}
			for _, f := range pkg.Files {
				for _, decl := range f.Decls {
					gd, ok := decl.(*ast.GenDecl)
					if !ok || gd.Tok != token.CONST {
						continue
					}
					for _, spec := range gd.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, n := range vs.Names {
							if i < len(vs.Values) {
								if s, ok := stringLit(vs.Values[i]); ok {
									consts[n.Name] = s
								}
							}
						}
					}
				}
			}
			for fname, f := range pkg.Files {
				frel, _ := filepath.Rel(dir, fname)
				frel = filepath.ToSlash(frel)
				ast.Inspect(f, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.BasicLit:
						if rel == "internal/config" {
							if s, ok := stringLit(n); ok && varName.MatchString(s) {
								found.add(s, frel)
							}
						}
					case *ast.CallExpr:
						if !readsEnv(n.Fun) || len(n.Args) == 0 {
							return true
						}
						s, ok := stringLit(n.Args[0])
						if id, isIdent := n.Args[0].(*ast.Ident); !ok && isIdent {
							s, ok = consts[id.Name]
						}
						if ok && varName.MatchString(s) {
							found.add(s, frel)
						}
					}
					return true
				})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// readsEnv reports whether fun is os.Getenv, os.LookupEnv or a function
// value called getenv.
func readsEnv(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		return ok && x.Name == "os" && (f.Sel.Name == "Getenv" || f.Sel.Name == "LookupEnv")
	case *ast.Ident:
		return f.Name == "getenv"
	}
	return false
}

// tableRow is a row of the configuration table: | `NAME` | default | meaning |
var tableRow = regexp.MustCompile("^\\|\\s*`([A-Z0-9_]+)`\\s*\\|")

// documented returns the variables of the table in path, in order, and
// reports a table header that is not the agreed one.
func documented(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: every variable is documented in one table there", err)
	}
	var names []string
	header := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "| variable | default | meaning |" {
			if header {
				t.Errorf("%s: more than one table `| variable | default | meaning |`: keep every variable in one table", configTable)
			}
			header = true
		}
		if m := tableRow.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	if !header {
		t.Errorf("%s: no table with the header `| variable | default | meaning |`", configTable)
	}
	return names
}

// TestDocumentedVariables: every OUTCRY_* (and SENDGRID_*) variable the code
// reads has a row in docs/configuration.md, and every row names a variable
// the code (or a test) reads.
func TestDocumentedVariables(t *testing.T) {
	dir := root(t)
	code := readVariables(t, dir, false)
	if len(code) < 30 {
		t.Fatalf("found only %d variables read by the code: the scan of the source is broken", len(code))
	}
	for _, want := range []string{"OUTCRY_ADDR", "OUTCRY_SUBMIT_RATE", "SENDGRID_API_KEY", "OUTCRY_TEST_PG", "OUTCRY_TEST_STORE"} {
		if _, ok := code[want]; !ok {
			t.Errorf("the scan of the source did not find %s, which the code reads", want)
		}
	}
	rows := documented(t, filepath.Join(dir, configTable))
	inTable := map[string]bool{}
	for _, n := range rows {
		if inTable[n] {
			t.Errorf("%s has two rows for %s: keep one", configTable, n)
		}
		inTable[n] = true
	}
	var missing []string
	for n := range code {
		if !inTable[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	for _, n := range missing {
		t.Errorf("%s is read by %s but has no row in %s: add `| `%s` | default | meaning |` to its table",
			n, strings.Join(code[n], ", "), configTable, n)
	}
	all := readVariables(t, dir, true) // tests may read variables of their own (OUTCRY_CHROMIUM…)
	for _, n := range rows {
		if _, ok := all[n]; !ok {
			t.Errorf("%s has a row for %s, which no code reads: remove the row from %s (or read the variable)", configTable, n, configTable)
		}
	}
}
