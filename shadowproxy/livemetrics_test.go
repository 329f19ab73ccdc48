package shadowproxy

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/srctl/srctl/lakehouse"
)

// TestLiveMetricsAgreeWithTheLog: the metrics a dashboard reads say what the log rows say.
// The shadow is the same MariaDB under a user of its own, so that CURRENT_USER() returns other
// rows there and mysql.user is refused there (error 1142), while the primary answers both.
func TestLiveMetricsAgreeWithTheLog(t *testing.T) {
	paddr, db := primaryAddr(t)
	admin := openDB(t, "root@tcp("+paddr+")/"+db)
	mustExec(t, admin, "DROP USER IF EXISTS 'srctl_metrics'@'%'", "CREATE USER 'srctl_metrics'@'%'",
		"GRANT SELECT ON "+db+".* TO 'srctl_metrics'@'%'")
	t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS 'srctl_metrics'@'%'") })
	sink := &memSink{}
	p, addr := startProxy(t, Config{Primary: paddr, Shadow: paddr, ShadowUser: "srctl_metrics", Sink: sink, MaxMirrorBytes: 200})
	reg := prometheus.NewRegistry()
	p.live.register(reg, p.Stats())

	client := openDB(t, "root@tcp("+addr+")/"+db)
	client.SetMaxOpenConns(1)
	var s string
	for range 3 {
		if err := client.QueryRow("SELECT 1").Scan(&s); err != nil { // the same rows on both
			t.Fatal(err)
		}
	}
	if err := client.QueryRow("SELECT CURRENT_USER()").Scan(&s); err != nil { // other rows on the shadow
		t.Fatal(err)
	}
	if err := client.QueryRow("SELECT COUNT(*) FROM mysql.user").Scan(&s); err != nil { // refused on the shadow
		t.Fatal(err)
	}
	if err := client.QueryRow("SELECT * FROM no_such_table_srctl").Scan(&s); err == nil { // fails on both
		t.Fatal("no_such_table_srctl exists")
	}
	if err := client.QueryRow("SELECT '" + strings.Repeat("x", 300) + "'").Scan(&s); err != nil { // too large to mirror
		t.Fatal(err)
	}
	rows := sink.waitRows(t, "every copy", func(rs []lakehouse.ProxyLogRecord) bool {
		return countRows(rs, "shadow", "COM_QUERY") >= 7 && p.Stats().QueuedCommands.Load() == 0
	})

	var executed [2]int
	errs := map[string]int{}
	for _, r := range rows {
		if r.Filtered || r.Dropped {
			continue
		}
		i := 0
		if r.Target == "shadow" {
			i = 1
		}
		executed[i]++
		if !r.Success && r.ErrorCode != nil {
			errs[r.Target+" "+strconv.Itoa(*r.ErrorCode)]++
		}
	}
	for i, target := range []string{"primary", "shadow"} {
		if got := histogramCount(t, reg, "srctl_shadow_query_duration_seconds", target); got != executed[i] || got == 0 {
			t.Errorf("%s latency samples %d, want the %d executed rows", target, got, executed[i])
		}
	}
	for key, want := range map[string]int{"primary 1146": 1, "shadow 1146": 1, "shadow 1142": 1} {
		f := strings.Fields(key)
		if got := testutil.ToFloat64(p.live.errors.WithLabelValues(f[0], f[1])); int(got) != want || errs[key] != want {
			t.Errorf("errors %s: metric %v, log %d, want %d", key, got, errs[key], want)
		}
	}
	if got := testutil.ToFloat64(p.live.dropped.WithLabelValues(DropTooLarge)); got != 1 {
		t.Errorf("dropped too_large %v, want 1", got)
	}
	if got := testutil.ToFloat64(p.live.dropped.WithLabelValues(DropQueueFull)); got != 0 {
		t.Errorf("dropped queue_full %v, want 0", got)
	}
	// SELECT 1 x3 and CURRENT_USER() answered rows on both sides (plus the driver's own
	// statements, if any); only CURRENT_USER() differs.
	if cmp, diff := p.live.resultsCmp.Load(), p.live.resultsDiffer.Load(); cmp < 4 || diff != 1 {
		t.Errorf("results compared %d, differing %d; want at least 4 compared, 1 differing", cmp, diff)
	}
	if q, b := p.Stats().QueuedCommands.Load(), p.Stats().QueuedBytes.Load(); q != 0 || b != 0 {
		t.Errorf("queue gauges %d commands, %d bytes after every copy ran; want 0", q, b)
	}
}

// TestErrorCodeLabelIsBounded: codes come from servers; past maxErrorCodes they share "other".
func TestErrorCodeLabelIsBounded(t *testing.T) {
	m := newLiveMetrics()
	for code := range 1000 {
		c := code
		m.observe(&lakehouse.ProxyLogRecord{Target: "shadow", ErrorCode: &c})
	}
	if n := testutil.CollectAndCount(m.errors); n != maxErrorCodes+1 {
		t.Errorf("%d error series, want %d codes and other", n, maxErrorCodes+1)
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("shadow", "other")); got != 1000-maxErrorCodes {
		t.Errorf("other = %v, want %d", got, 1000-maxErrorCodes)
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name, target string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == target {
					return int(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}
