//go:build !linux

package objstore

import "os"

// dropCache is a no-op here: see dropcache_linux.go.
func dropCache(*os.File) {}
