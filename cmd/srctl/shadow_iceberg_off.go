//go:build shadowonly

package main

import (
	"context"
	"strings"

	"github.com/spf13/pflag"

	"github.com/srctl/srctl/shadowproxy"
)

// icebergLogSink of the shadow-only build: it has no Iceberg code, so no --lake-* flags, and an
// iceberg:// log sink is refused before anything starts.
type icebergLogSink struct{}

func (icebergLogSink) addFlags(*pflag.FlagSet) {}

// icebergSinkForm ends --log-sink's help: this build takes no other form.
const icebergSinkForm = ""

// icebergBatchRows is said in --log-batch-rows' help: nothing in this build.
const icebergBatchRows = ""

func isIcebergURI(s string) bool { return strings.HasPrefix(s, "iceberg://") }

func (icebergLogSink) open(context.Context, string) (shadowproxy.LogWriter, func(), error) {
	return nil, nil, usageErrorf("--log-sink iceberg://...: this is the shadow-only build of srctl, without Iceberg; " +
		"write JSONL (a directory, gs:// or s3://) and load it with `srctl lake import`, or run the full srctl")
}
