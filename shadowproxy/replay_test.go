package shadowproxy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/srctl/srctl/lakehouse"
)

// TestShadowSessionIsReplayed: the shadow session follows the client's (database of the
// handshake, SET, prepared statements) and gets it back after it is cut: the same queries then
// return the same results on both sides.
func TestShadowSessionIsReplayed(t *testing.T) {
	paddr, db := primaryAddr(t)
	admin := openDB(t, "root@tcp("+paddr+")/"+db)
	mustExec(t, admin, "DROP USER IF EXISTS 'srctl_replay'@'%'", "CREATE USER 'srctl_replay'@'%'",
		"GRANT ALL ON *.* TO 'srctl_replay'@'%'", "DROP TABLE IF EXISTS replay_t", "CREATE TABLE replay_t (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO replay_t VALUES (1, 'one'), (2, 'two')")
	t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS 'srctl_replay'@'%'") })
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: paddr, Shadow: paddr, ShadowUser: "srctl_replay", Sink: sink})
	client := openDB(t, "root@tcp("+addr+")/"+db)
	client.SetMaxOpenConns(1)
	mustExec(t, client, "SET @x = 42", "SET SESSION sql_mode = 'ANSI_QUOTES'")
	stmt, err := client.Prepare("SELECT v FROM replay_t WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(tag string) {
		t.Helper()
		var x int
		var mode, v string
		if err := client.QueryRow("SELECT @x, @@sql_mode /*"+tag+"*/").Scan(&x, &mode); err != nil || x != 42 {
			t.Fatalf("%d %q %v", x, mode, err)
		}
		if err := stmt.QueryRow(2).Scan(&v); err != nil || v != "two" {
			t.Fatalf("%q %v", v, err)
		}
	}
	ask("before")
	sink.waitRows(t, "the shadow's rows", func(rs []lakehouse.ProxyLogRecord) bool {
		return countRows(rs, "shadow", "COM_STMT_EXECUTE") == 1
	})
	// Cut the shadow session on the server side: the next copy fails, the one after reopens
	// the session and replays it.
	rows, err := admin.Query("SELECT id FROM information_schema.processlist WHERE user = 'srctl_replay'")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 1 {
		t.Fatalf("%d shadow sessions, want 1", len(ids))
	}
	mustExec(t, admin, "KILL "+ids[0])
	ask("cut")
	ask("after")
	all := sink.waitRows(t, "the shadow's rows after the cut", func(rs []lakehouse.ProxyLogRecord) bool {
		return countRows(rs, "shadow", "COM_STMT_EXECUTE") >= 3
	})
	byID := map[string][2]*lakehouse.ProxyLogRecord{}
	for i := range all {
		r := &all[i]
		p := byID[r.QueryID]
		if r.Target == "primary" {
			p[0] = r
		} else {
			p[1] = r
		}
		byID[r.QueryID] = p
	}
	after := regexp.MustCompile(`/\*after\*/`)
	compared := 0
	for _, p := range byID {
		if p[0] == nil || p[1] == nil || p[0].ResultHash == "" {
			continue
		}
		if p[0].Command == "COM_QUERY" && !after.MatchString(p[0].QueryText) && !strings.Contains(p[0].QueryText, "before") {
			continue // the copy that met the cut session
		}
		if p[1].ResultHash != p[0].ResultHash {
			t.Errorf("%s %q: shadow result %s (%s), primary %s", p[0].Command, p[0].QueryText, p[1].ResultHash, p[1].Error, p[0].ResultHash)
		}
		compared++
	}
	executes, cut := 0, 0
	for _, p := range byID {
		if p[1] != nil && p[1].Command == "COM_STMT_EXECUTE" && p[1].Success {
			executes++
		}
		if p[1] != nil && !p[1].Success && !p[1].Dropped && p[1].ErrorCode == nil {
			cut++ // the copy that met the killed session
		}
	}
	if compared < 3 || executes < 2 || cut == 0 {
		t.Errorf("compared %d pairs (want >= 3), %d executes on the shadow (want >= 2: the statement re-prepared), %d transport failures (want the cut)",
			compared, executes, cut)
	}
}

func countRows(rs []lakehouse.ProxyLogRecord, target, command string) int {
	n := 0
	for _, r := range rs {
		if r.Target == target && r.Command == command {
			n++
		}
	}
	return n
}
