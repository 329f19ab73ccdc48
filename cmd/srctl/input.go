package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/srctl/srctl/lakehouse/objstore"
)

// readInput reads a whole input named on the command line: "-" for standard input, a gs:// or
// s3:// object, or a local file. limit bounds what is read.
func readInput(ctx context.Context, name string, stdin io.Reader, limit int64) ([]byte, error) {
	var r io.Reader
	switch {
	case name == "-":
		r = stdin
	case strings.HasPrefix(name, "gs://") || strings.HasPrefix(name, "s3://"):
		dir, key := path.Split(name)
		if key == "" {
			return nil, usageErrorf("%s names a prefix, not an object", name)
		}
		b, err := objstore.Open(ctx, strings.TrimSuffix(dir, "/"), objstore.Options{})
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", name, err)
		}
		defer b.Close()
		rc, err := b.Get(ctx, key)
		if err != nil {
			if b.IsNotExist(err) {
				return nil, usageErrorf("%s does not exist", name)
			}
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		defer rc.Close()
		r = rc
	default:
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, usageErrorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}
