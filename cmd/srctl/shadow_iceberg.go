//go:build !shadowonly

package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/shadowproxy"
)

// icebergLogSink opens srctl shadow's iceberg:// log sinks: the --lake-* flags name the catalog.
type icebergLogSink struct{ lake lakeOptions }

func (s *icebergLogSink) addFlags(f *pflag.FlagSet) { s.lake.addFlags(f) }

// icebergSinkForm ends --log-sink's help: the forms this build also takes.
const icebergSinkForm = " or iceberg://CATALOG/NAMESPACE.TABLE"

// icebergBatchRows is said in --log-batch-rows' help: an Iceberg table's default batch.
var icebergBatchRows = fmt.Sprintf(", %d for iceberg://", shadowproxy.DefaultIcebergLogBatchRows)

func isIcebergURI(s string) bool { return lakehouse.IsTableURI(s) }

func (s *icebergLogSink) open(ctx context.Context, uri string) (shadowproxy.LogWriter, func(), error) {
	u, err := lakehouse.ParseTableURI(uri)
	if err != nil {
		return nil, nil, usageErrorf("--log-sink: %v", err)
	}
	return openProxyLogTable(ctx, &s.lake, u)
}
