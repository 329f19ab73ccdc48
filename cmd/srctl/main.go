// Command srctl is the toolkit for changing a production StarRocks safely: collect query
// profiles, diff primary and shadow traffic, gate SQL changes in CI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := func() int {
		// SRCTL_CPUPROFILE=FILE writes a CPU profile of the whole command (for the performance
		// work: go tool pprof bin/srctl FILE); a developer's switch, not a flag of any command.
		if path := os.Getenv("SRCTL_CPUPROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "srctl: SRCTL_CPUPROFILE:", err)
				return exitFailure
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintln(os.Stderr, "srctl: SRCTL_CPUPROFILE:", err)
				return exitFailure
			}
			defer pprof.StopCPUProfile()
		}
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		if ce.msg != "" {
			fmt.Fprintln(stderr, "srctl:", ce.msg)
		}
		return ce.code
	}
	fmt.Fprintln(stderr, "srctl:", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}
