package shadowproxy

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

func TestSmokeMirrorsAndLogs(t *testing.T) {
	paddr, pdb := primaryAddr(t)
	shadow := testenv.StartMariaDB(t)
	for _, dsn := range []string{testenv.MySQLDSN(t), shadow.DSN("")} {
		db := openDB(t, dsn)
		mustExec(t, db, "CREATE DATABASE IF NOT EXISTS "+pdb)
		mustExec(t, db, "DROP TABLE IF EXISTS "+pdb+".smoke", "CREATE TABLE "+pdb+".smoke (id INT PRIMARY KEY, v VARCHAR(20))",
			"INSERT INTO "+pdb+".smoke VALUES (1,'a'),(2,'b')")
	}
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: paddr, Shadow: shadow.Addr, ShadowUser: "root", Sink: sink})
	db := openDB(t, "root@tcp("+addr+")/"+pdb+"?multiStatements=true")
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM smoke").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if err := db.QueryRow("SELECT v FROM smoke WHERE id = ?", 2).Scan(new(string)); err != nil {
		t.Fatal(err)
	}
	rows := sink.waitRows(t, "shadow rows", func(rs []lakehouse.ProxyLogRecord) bool {
		n := 0
		for _, r := range rs {
			if r.Target == "shadow" && r.Command == "COM_STMT_EXECUTE" {
				n++
			}
		}
		return n == 1
	})
	for _, r := range rows {
		t.Logf("%s %s %q ok=%v rows=%v hash=%s err=%q drop=%q filt=%q", r.Target, r.Command, r.QueryText, r.Success, r.Rows, r.ResultHash, r.Error, r.DropReason, r.FilterReason)
	}
}
