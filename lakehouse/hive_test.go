package lakehouse

import (
	"regexp"
	"testing"
	"time"
)

func TestPartitionDirLayout(t *testing.T) {
	part := time.Date(2026, 3, 5, 14, 59, 1, 0, time.FixedZone("x", 3600)) // 13:59 UTC
	key := "starrocks-query-profiles/" + PartitionDir(part) + "/20260305_143022_0123abcd.jsonl"
	re := regexp.MustCompile(`^starrocks-query-profiles/year=2026/month=03/day=05/hour=13/20260305_143022_[0-9a-f]{8}\.jsonl$`)
	if !re.MatchString(key) {
		t.Fatalf("key %q does not follow the Hive layout", key)
	}
	got, ok := ParsePartition(key)
	if !ok || !got.Equal(time.Date(2026, 3, 5, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParsePartition(%q) = %v %v", key, got, ok)
	}
}

func TestParsePartitionPartialAndBad(t *testing.T) {
	if h, ok := ParsePartition("p/year=2026/month=02/x.jsonl"); !ok || !h.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("partial partition: %v %v", h, ok)
	}
	for _, k := range []string{"p/x.jsonl", "year=abc/x", "p/year=2026/hour=x/y"} {
		if _, ok := ParsePartition(k); ok {
			t.Errorf("ParsePartition(%q) ok", k)
		}
	}
}
