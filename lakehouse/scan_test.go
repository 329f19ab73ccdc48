package lakehouse_test

import (
	"context"
	"errors"
	"testing"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/jsonl"
	"github.com/srctl/srctl/lakehouse/objstore"
)

func TestScanJSONL(t *testing.T) {
	ctx := context.Background()
	b := objstore.NewMem(t.Name())
	b.Put(ctx, "p/year=2026/month=01/day=01/hour=00/a.jsonl", []byte(`{"sr_query_id":"1","cluster":"c"}`+"\n"+`{bad`+"\n"))
	b.Put(ctx, "p/year=2026/month=01/day=01/hour=01/b.jsonl", []byte(`{"sr_query_id":"2","cluster":"c"}`+"\n"))
	b.Put(ctx, "p/_SUCCESS", []byte("not a record"))
	var ids []string
	var bad []string
	err := lakehouse.ScanJSONL(ctx, b, "p/", func(r lakehouse.ProfileRecord, err error) error {
		var se *jsonl.SyntaxError
		if errors.As(err, &se) {
			bad = append(bad, se.Error()[:len("p/year=2026/month=01/day=01/hour=00/a.jsonl:2")])
			return nil
		}
		ids = append(ids, r.QueryID)
		return nil
	})
	if err != nil || len(ids) != 2 || ids[0] != "1" || ids[1] != "2" {
		t.Fatalf("ids %v err %v", ids, err)
	}
	if len(bad) != 1 || bad[0] != "p/year=2026/month=01/day=01/hour=00/a.jsonl:2" {
		t.Fatalf("bad lines %v", bad)
	}
	stop := errors.New("stop")
	if err := lakehouse.ScanJSONL(ctx, b, "p/", func(lakehouse.ProfileRecord, error) error { return stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
}
