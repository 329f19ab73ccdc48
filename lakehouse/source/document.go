package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/srctl/srctl/lakehouse/objstore"
)

// ReadDocument reads one whole document named on the command line (a profile, a plan): "-" for
// stdin, a gs:// or s3:// object, or a local file. limit bounds what is read. A name that does
// not exist, names a prefix or is over the limit is an *InputError.
func ReadDocument(ctx context.Context, name string, stdin io.Reader, store objstore.Options, limit int64) ([]byte, error) {
	var r io.Reader
	switch {
	case name == "-":
		r = stdin
	case strings.HasPrefix(name, "gs://") || strings.HasPrefix(name, "s3://"):
		dir, key := path.Split(name)
		if key == "" {
			return nil, &InputError{Err: fmt.Errorf("%s names a prefix, not an object", name)}
		}
		b, err := objstore.Open(ctx, strings.TrimSuffix(dir, "/"), store)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", name, err)
		}
		defer b.Close()
		rc, err := b.Get(ctx, key)
		if err != nil {
			if b.IsNotExist(err) {
				return nil, &InputError{Err: fmt.Errorf("%s does not exist", name)}
			}
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		defer rc.Close()
		r = rc
	default:
		f, err := os.Open(name)
		if err != nil {
			return nil, &InputError{Err: err}
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, &InputError{Err: fmt.Errorf("%s is larger than %d bytes", name, limit)}
	}
	return data, nil
}
