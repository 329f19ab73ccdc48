package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// The process tests that measure srctl's memory and CPU (the collector's chaos test, the collect
// and shadow benchmarks) run the binary users run: built once per test process as the image
// builds it (static, stripped). The test binary acting as srctl (childEnv) links every test
// dependency too (Kubernetes types, browsers' protocol, fake S3...), which once added 40 MB to
// the collector's measured peak RSS.
var (
	productOnce sync.Once
	productBin  string
	productErr  error
	productDir  string
)

// productBinary returns the path of srctl built from this package's source, or the binary named
// by SRCTL_BENCH_SRCTL (to measure another commit's srctl under the same benchmark).
func productBinary(tb testing.TB) string {
	tb.Helper()
	productOnce.Do(func() {
		if bin := os.Getenv("SRCTL_BENCH_SRCTL"); bin != "" {
			productBin = bin
			return
		}
		dir, err := os.MkdirTemp("", "srctl-product-")
		if err != nil {
			productErr = err
			return
		}
		productDir = dir
		bin := filepath.Join(dir, "srctl")
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, ".")
		// This file's directory (the package's source), so a test binary run from elsewhere
		// (a benchmark compiled with go test -c) builds the same package.
		_, self, _, _ := runtime.Caller(0)
		cmd.Dir = filepath.Dir(self)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			productErr = fmt.Errorf("%w: %s", err, out)
			return
		}
		productBin = bin
	})
	if productErr != nil {
		tb.Fatalf("building srctl for a process test: %v", productErr)
	}
	return productBin
}

// srctlCommand is `srctl argv...` as a process of the product binary.
func srctlCommand(tb testing.TB, argv ...string) *exec.Cmd {
	return exec.Command(productBinary(tb), argv...)
}

// removeProductBinary is called by TestMain when the tests end.
func removeProductBinary() {
	if productDir != "" {
		os.RemoveAll(productDir)
	}
}
