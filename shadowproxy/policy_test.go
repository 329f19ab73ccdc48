package shadowproxy

import (
	"regexp"
	"testing"

	"github.com/srctl/srctl/lakehouse"
)

// TestPolicyFiltersWithReasons: what is not mirrored gets a shadow row saying why; session
// state goes through whatever the filters say.
func TestPolicyFiltersWithReasons(t *testing.T) {
	primary, shadow := startFake(t), startFake(t)
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: primary.Addr(), Shadow: shadow.Addr(), ShadowUser: "root", Sink: sink,
		Policy: Policy{Exclude: regexp.MustCompile(`secret`), ExcludeTypes: []string{"show"}, SampleRate: 1}})
	r := dialRecorder(t, addr, "")
	for _, q := range []string{"SELECT 1", "INSERT INTO t VALUES (1)", "SELECT secret FROM t", "SHOW TABLES", "SET @a = 1",
		"LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t"} {
		r.do(query(q))
	}
	want := map[string]string{"SELECT 1": "", "INSERT INTO t VALUES (1)": ReasonSQLOperation, "SELECT secret FROM t": ReasonPattern,
		"SHOW TABLES": ReasonSQLOperation, "SET @a = 1": "", "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t": ReasonLoadDataLocal}
	rows := sink.waitRows(t, "a shadow row per query", func(rs []lakehouse.ProxyLogRecord) bool {
		return countRows(rs, "shadow", "COM_QUERY") == len(want)
	})
	for _, row := range rows {
		if row.Target != "shadow" || row.Command != "COM_QUERY" {
			continue
		}
		if reason, ok := want[row.QueryText]; !ok || row.FilterReason != reason || row.Filtered != (reason != "") {
			t.Errorf("%q: filtered %v reason %q, want reason %q", row.QueryText, row.Filtered, row.FilterReason, reason)
		}
		if row.Filtered && (row.ServerMS != nil || row.DurationMS != 0) {
			t.Errorf("%q: a filtered row has a duration", row.QueryText)
		}
	}
}
