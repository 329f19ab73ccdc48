package plan

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/testenv"
)

func TestMySQLJSONFixture(t *testing.T) {
	p := Parse(fixture(t, "mariadb-join.json"))
	if p.Format != FormatMySQLJSON || len(p.Warnings) != 0 {
		t.Fatalf("format %s warnings %v", p.Format, p.Warnings)
	}
	s := p.Structure()
	if s.JoinTree != "(c ⋈ o)" || len(s.Scans) != 2 {
		t.Fatalf("join tree %q scans %+v", s.JoinTree, s.Scans)
	}
	if s.Scans[0].Access != "range" || s.Scans[0].Rollup != "PRIMARY" || s.Scans[1].Access != "ref" || s.Scans[1].Rollup != "idx_customer" {
		t.Errorf("scans %+v", s.Scans)
	}
	if strings.Contains(p.Normalized(), "rows") || strings.Contains(p.Normalized(), "filtered") {
		t.Errorf("estimates not normalised away:\n%s", p.Normalized())
	}
}

// TestMySQLJSONFromRealServer runs EXPLAIN FORMAT=JSON on the MySQL-protocol server CI starts
// (MariaDB) and checks that the diff names a lost index and a changed join order.
func TestMySQLJSONFromRealServer(t *testing.T) {
	db, err := sql.Open("mysql", testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"DROP TABLE IF EXISTS srctl_plan_orders, srctl_plan_customers",
		"CREATE TABLE srctl_plan_customers (id INT PRIMARY KEY, region VARCHAR(10))",
		"CREATE TABLE srctl_plan_orders (id INT PRIMARY KEY, customer_id INT, amount INT, KEY idx_customer (customer_id))",
		"INSERT INTO srctl_plan_customers SELECT seq, IF(seq % 2, 'eu', 'us') FROM seq_1_to_300",
		"INSERT INTO srctl_plan_orders SELECT seq, seq % 300 + 1, seq % 97 FROM seq_1_to_5000",
		"ANALYZE TABLE srctl_plan_customers, srctl_plan_orders",
	} {
		if _, err := db.Exec(q); err != nil {
			if strings.Contains(err.Error(), "seq_1_to") {
				t.Fatalf("%s: the server has no sequence engine (MariaDB only): %v", q, err)
			}
			t.Fatalf("%s: %v", q, err)
		}
	}
	explain := func(q string) *Plan {
		t.Helper()
		var js string
		if err := db.QueryRow("EXPLAIN FORMAT=JSON " + q).Scan(&js); err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		p := Parse(js)
		if p.Format != FormatMySQLJSON || len(p.Warnings) != 0 || p.Root == nil {
			t.Fatalf("parse: format %s warnings %v\n%s", p.Format, p.Warnings, js)
		}
		return p
	}
	const where = " ON o.customer_id = c.id WHERE o.customer_id BETWEEN 10 AND 20 GROUP BY c.region"
	base := explain("SELECT c.region, SUM(o.amount) FROM srctl_plan_orders o JOIN srctl_plan_customers c" + where)
	again := explain("SELECT c.region, SUM(o.amount) FROM srctl_plan_orders o JOIN srctl_plan_customers c" + where)
	if d := Compare(base, again); !d.Same {
		t.Fatalf("the same query explained twice differs:\n%s", d.Unified)
	}
	noIndex := explain("SELECT c.region, SUM(o.amount) FROM srctl_plan_orders o IGNORE INDEX (idx_customer) JOIN srctl_plan_customers c" + where)
	d := Compare(base, noIndex)
	if !hasChange(d, ChangeScanAccess, "scan of o lost its index") {
		t.Errorf("lost index not reported: %+v\n%s", d.Changes, d.Unified)
	}
	ordersFirst := explain("SELECT c.region, SUM(o.amount) FROM srctl_plan_orders o STRAIGHT_JOIN srctl_plan_customers c" + where)
	d = Compare(base, ordersFirst)
	if !hasChange(d, ChangeJoinOrder, "") {
		t.Errorf("join order change not reported: %+v\n%s", d.Changes, d.Unified)
	}
}

func hasChange(d Diff, kind, text string) bool {
	for _, c := range d.Changes {
		if c.Kind == kind && strings.Contains(c.Text, text) {
			return true
		}
	}
	return false
}
