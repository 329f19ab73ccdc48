package shadowproxy

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// TestCutoverAndBack switches the source of answers to the shadow and back on a live
// connection: the same client connection, a statement prepared before each switch and one
// after it keep working, and the log rows say which side answered.
func TestCutoverAndBack(t *testing.T) {
	paddr, db := primaryAddr(t)
	shadow := testenv.StartMariaDB(t)
	for _, side := range []struct{ dsn, name string }{{testenv.MySQLDSN(t), "primary"}, {shadow.DSN(""), "shadow"}} {
		c := openDB(t, side.dsn)
		mustExec(t, c, "CREATE DATABASE IF NOT EXISTS "+db, "DROP TABLE IF EXISTS "+db+".who",
			"CREATE TABLE "+db+".who (id INT PRIMARY KEY, name VARCHAR(10))", "INSERT INTO "+db+".who VALUES (1, '"+side.name+"')")
	}
	sink := &memSink{}
	p, addr := startProxy(t, Config{Primary: paddr, Shadow: shadow.Addr, ShadowUser: "root", Sink: sink, AllowCutover: true})
	client := openDB(t, "root@tcp("+addr+")/"+db)
	client.SetMaxOpenConns(1) // one connection throughout
	before, err := client.Prepare("SELECT name FROM who WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(want string) {
		t.Helper()
		var got string
		if err := client.QueryRow("SELECT name FROM who").Scan(&got); err != nil || got != want {
			t.Fatalf("text query: %q, %v; want %q", got, err, want)
		}
		if err := before.QueryRow(1).Scan(&got); err != nil || got != want {
			t.Fatalf("statement prepared first: %q, %v; want %q", got, err, want)
		}
		after, err := client.Prepare("SELECT name FROM who WHERE id = ? AND 1 = 1")
		if err != nil {
			t.Fatal(err)
		}
		defer after.Close()
		if err := after.QueryRow(1).Scan(&got); err != nil || got != want {
			t.Fatalf("statement prepared now: %q, %v; want %q", got, err, want)
		}
	}
	ask("primary")
	if err := p.SetSource(SourceShadow); err != nil {
		t.Fatal(err)
	}
	ask("shadow")
	ask("shadow")
	if err := p.SetSource(SourcePrimary); err != nil {
		t.Fatal(err)
	}
	ask("primary")
	if n := p.Stats().ConnectionsTotal.Load(); n != 1 {
		t.Errorf("%d client connections: the switch must not reconnect", n)
	}
	rows := sink.waitRows(t, "the primary's mirror rows", func(rs []lakehouse.ProxyLogRecord) bool {
		for _, r := range rs {
			if r.Target == "primary" && r.Role == "mirror" && r.Command == "COM_STMT_EXECUTE" && r.Success {
				return true
			}
		}
		return false
	})
	sources := map[string]int{}
	for _, r := range rows {
		if r.Role == "source" {
			sources[r.Target]++
		}
		if !r.Success && !r.Filtered {
			t.Errorf("failed row: %s %s %q %s", r.Target, r.Command, r.QueryText, r.Error)
		}
	}
	if sources["shadow"] == 0 || sources["primary"] == 0 {
		t.Errorf("source rows by target: %v, want both", sources)
	}

	p2, _ := startProxy(t, Config{Primary: paddr, Shadow: shadow.Addr})
	if err := p2.SetSource(SourceShadow); err == nil {
		t.Error("cutover without AllowCutover was accepted")
	}
}
