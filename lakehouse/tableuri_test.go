package lakehouse

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTableURI(t *testing.T) {
	u, err := ParseTableURI("iceberg://local/srctl.proxy_logs")
	if err != nil || u != (TableURI{Catalog: "local", Namespace: "srctl", Table: "proxy_logs"}) ||
		u.String() != "iceberg://local/srctl.proxy_logs" || !slices.Equal(u.Ident(), []string{"srctl", "proxy_logs"}) {
		t.Errorf("%+v %v", u, err)
	}
	for _, bad := range []string{"iceberg://local/proxy_logs", "iceberg:///srctl.t", "s3://b/k", "iceberg://local/a.b.c", "iceberg://local/a.b/c"} {
		if _, err := ParseTableURI(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if !IsTableURI("iceberg://x") || IsTableURI("./iceberg://x") || IsTableURI("ICEBERG://x") {
		t.Error("IsTableURI: only the iceberg:// prefix names a table")
	}
}
