package lakehouse

import (
	"fmt"
	"strings"
)

// TableURI names an Iceberg table: iceberg://<catalog>/<namespace>.<table>. It lives here, not in
// lakehouse/icelake, so that code deciding what an input is (source.Resolve, the CLI's flags and
// the split build's hand-off to srctl-lake) does not link the Iceberg, Arrow and catalog code.
type TableURI struct {
	Catalog   string
	Namespace string
	Table     string
}

func (u TableURI) String() string {
	return "iceberg://" + u.Catalog + "/" + u.Namespace + "." + u.Table
}

// Ident is the table's identifier in its catalog (iceberg-go's table.Identifier is a []string).
func (u TableURI) Ident() []string { return []string{u.Namespace, u.Table} }

// IsTableURI says whether s names an Iceberg table.
func IsTableURI(s string) bool { return strings.HasPrefix(s, "iceberg://") }

// ParseTableURI reads iceberg://<catalog>/<namespace>.<table>.
func ParseTableURI(s string) (TableURI, error) {
	rest, ok := strings.CutPrefix(s, "iceberg://")
	if !ok {
		return TableURI{}, fmt.Errorf("%q: an Iceberg table is iceberg://<catalog>/<namespace>.<table>", s)
	}
	cat, name, ok := strings.Cut(rest, "/")
	ns, tbl, ok2 := strings.Cut(name, ".")
	if !ok || !ok2 || cat == "" || ns == "" || tbl == "" || strings.ContainsAny(tbl, "./") {
		return TableURI{}, fmt.Errorf("%q: want iceberg://<catalog>/<namespace>.<table>, e.g. iceberg://local/srctl.proxy_logs", s)
	}
	return TableURI{Catalog: cat, Namespace: ns, Table: tbl}, nil
}

// DefaultImportBatchRows is the rows per committed batch of `srctl lake import`.
const DefaultImportBatchRows = 200_000
