// The architecture test: the import graph of srctl's packages follows the layering the README's
// Architecture section describes. A package may import only packages of lower layers (and, where
// a layer says so, of its own); a new package must be given a layer here before it can land.
package srctl_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/srctl/srctl/"

// layer is a rank in the import order; sameLayer says whether packages of the layer may import
// each other.
type layer struct {
	rank      int
	name      string
	sameLayer bool
}

var (
	leaves   = layer{0, "leaf (parsers, statistics, wire protocol, redaction)", true}
	records  = layer{1, "records and stores", true}
	lakeIO   = layer{2, "lake readers and writers", true}
	sources  = layer{3, "the source layer", false}
	legs     = layer{4, "legs (never import each other)", false}
	support  = layer{5, "test doubles and test support", true}
	programs = layer{6, "programs", false}
)

// layers places every package (by path relative to the module). Order within the map is free.
var layers = map[string]layer{
	"analyze/fingerprint": leaves, "analyze/stats": leaves, "analyze/profile": leaves, "analyze/plan": leaves,
	"analyze/sqlclass": leaves, "internal/redact": leaves, "internal/termsafe": leaves, "internal/htmlreport": leaves, "internal/mysqlwire": leaves, "internal/jsonstr": leaves, "internal/jsonscan": leaves, "internal/hugemem": leaves, "lakehouse/jsonl": leaves,

	"lakehouse": records, "lakehouse/objstore": records,

	"lakehouse/proxylog": lakeIO, "lakehouse/sink": lakeIO, "lakehouse/icelake": lakeIO,

	"lakehouse/source": sources,

	"analyze": legs, "collector": legs, "harness": legs, "shadowproxy": legs,

	"testdouble": support, "testdouble/fedouble": support, "testdouble/starrocksdouble": support,
	"testdouble/restdouble": support, "testdouble/trafficgen": support, "internal/testenv": support,
	"analyze/sqlclass/sqlclasstest": support, "lakehouse/objstore/objstoretest": support,
	"lakehouse/sink/sinktest": support, "deploy": support,

	"cmd/srctl": programs, "cmd/srctl-fe-double": programs, "cmd/srctl-sql-double": programs,
	"cmd/srctl-traffic-gen": programs,
}

// forbidden are imports the ranks alone would allow but the design does not.
var forbidden = map[string][]string{
	// srctl itself never contains a test double: the doubles have programs of their own.
	"cmd/srctl": {"testdouble", "internal/testenv"},
}

// imports returns, per package directory, the srctl packages its non-test files import (under
// every build tag: files are parsed, not built).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	got := map[string]map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bench") {
				return filepath.SkipDir // bench/duckdbref is a module of its own
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if got[pkg] == nil {
			got[pkg] = map[string]bool{}
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if rel, ok := strings.CutPrefix(p, module); ok {
				got[pkg][rel] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for pkg, ims := range got {
		out[pkg] = []string{}
		for im := range ims {
			out[pkg] = append(out[pkg], im)
		}
		sort.Strings(out[pkg])
	}
	return out
}

func TestImportsFollowTheLayers(t *testing.T) {
	if _, err := os.Stat("go.mod"); err != nil {
		t.Fatal("run from the module root")
	}
	graph := imports(t)
	if len(graph) < 20 {
		t.Fatalf("found only %d packages: the walk is broken", len(graph))
	}
	for pkg, ims := range graph {
		from, ok := layers[pkg]
		if !ok {
			t.Errorf("package %s has no layer: place it in architecture_test.go (and the README's Architecture section)", pkg)
			continue
		}
		for _, im := range ims {
			to, ok := layers[im]
			switch {
			case !ok:
				t.Errorf("%s imports %s, which has no layer", pkg, im)
			case to.rank > from.rank:
				t.Errorf("%s (%s) imports %s (%s): an import may only go down", pkg, from.name, im, to.name)
			case to.rank == from.rank && !from.sameLayer:
				t.Errorf("%s imports %s: both are %s", pkg, im, from.name)
			}
			for _, bad := range forbidden[pkg] {
				if im == bad || strings.HasPrefix(im, bad+"/") {
					t.Errorf("%s imports %s: it must not", pkg, im)
				}
			}
		}
	}
	for pkg := range layers {
		if _, ok := graph[pkg]; !ok {
			t.Errorf("architecture_test.go places %s, which does not exist (moved or removed?)", pkg)
		}
	}
}
