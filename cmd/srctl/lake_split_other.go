//go:build !shadowonly && splitlake && !unix

package main

import "fmt"

// execLake: replacing the process is a Unix call; elsewhere the split build is not offered (make
// build makes it on Unix only), and a hand-made one says what to do.
func execLake(bin string, _, _ []string) error {
	return fmt.Errorf("the split build of srctl hands Iceberg work to %s on Unix only: run %s directly, or build srctl without -tags splitlake", bin, bin)
}
