//go:build !shadowonly && splitlake && unix

package main

import (
	"fmt"
	"syscall"
)

// execLake replaces this process by bin: the same process id, so a container's entrypoint, a
// supervisor's signals and a CI job's exit code reach srctl-lake as they would have reached srctl.
func execLake(bin string, args, env []string) error {
	err := syscall.Exec(bin, append([]string{bin}, args...), env)
	return fmt.Errorf("running %s: %w", bin, err)
}
