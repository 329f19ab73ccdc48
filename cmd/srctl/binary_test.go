package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/testenv"
)

// The process tests that measure srctl's memory and CPU (the collector's chaos test, the collect
// and shadow benchmarks) run the binary users run: built once per test process as the image
// builds it (static, stripped). The test binary acting as srctl (childEnv) links every test
// dependency too (Kubernetes types, browsers' protocol, fake S3...), which once added 40 MB to
// the collector's measured peak RSS.
// productBuild is one build of srctl made for the process tests.
type productBuild struct {
	once sync.Once
	bin  string
	err  error
}

var (
	productMu     sync.Mutex
	productBuilds = map[string]*productBuild{} // by build tags
	productDir    string
)

// productBinary returns the path of srctl built from this package's source as make build and the
// image install it: the split build (-tags splitlake) named srctl, with the standard build beside
// it as srctl-lake for what reads or writes Iceberg tables (lakehandoff.go). SRCTL_BENCH_SRCTL
// names another binary instead (to measure another commit's srctl under the same benchmark).
func productBinary(tb testing.TB) string {
	if bin := os.Getenv("SRCTL_BENCH_SRCTL"); bin != "" {
		return bin
	}
	standardBinary(tb) // srctl-lake, beside srctl
	return productBinaryTagged(tb, "splitlake", "")
}

// standardBinary is the standard build (every command, Iceberg linked: go build ./cmd/srctl),
// named srctl-lake.
func standardBinary(tb testing.TB) string {
	return productBinaryTagged(tb, "", "")
}

// shadowOnlyBinary is the shadow-only build (-tags shadowonly, commands_shadowonly.go), or the
// binary named by SRCTL_BENCH_SRCTL_SHADOW.
func shadowOnlyBinary(tb testing.TB) string {
	return productBinaryTagged(tb, "shadowonly", "SRCTL_BENCH_SRCTL_SHADOW")
}

// productBinaryTagged builds srctl with tags once per test process (overrideEnv, if set and not
// empty in the environment, names a binary to use instead).
func productBinaryTagged(tb testing.TB, tags, overrideEnv string) string {
	tb.Helper()
	productMu.Lock()
	pb := productBuilds[tags]
	if pb == nil {
		pb = &productBuild{}
		productBuilds[tags] = pb
	}
	productMu.Unlock()
	pb.once.Do(func() {
		if bin := os.Getenv(overrideEnv); bin != "" {
			pb.bin = bin
			return
		}
		productMu.Lock()
		if productDir == "" {
			productDir, pb.err = os.MkdirTemp("", "srctl-product-")
		}
		dir := productDir
		productMu.Unlock()
		if pb.err != nil {
			return
		}
		// The names an install gives them: srctl-lake must be beside the split srctl.
		name := map[string]string{"": "srctl-lake", "splitlake": "srctl"}[tags]
		if name == "" {
			name = "srctl-" + tags
		}
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-tags="+tags, "-ldflags=-s -w", "-o", bin, ".")
		// This file's directory (the package's source), so a test binary run from elsewhere
		// (a benchmark compiled with go test -c) builds the same package.
		_, self, _, _ := runtime.Caller(0)
		cmd.Dir = filepath.Dir(self)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			pb.err = fmt.Errorf("%w: %s", err, out)
			return
		}
		pb.bin = bin
	})
	if pb.err != nil {
		tb.Fatalf("building srctl (tags %q) for a process test: %v", tags, pb.err)
	}
	return pb.bin
}

// srctlCommand is `srctl argv...` as a process of the product binary.
func srctlCommand(tb testing.TB, argv ...string) *exec.Cmd {
	return exec.Command(productBinary(tb), argv...)
}

// removeProductBinary is called by TestMain when the tests end.
func removeProductBinary() {
	productMu.Lock()
	defer productMu.Unlock()
	if productDir != "" {
		os.RemoveAll(productDir)
	}
}

// waitListening waits up to 20 s for a process started by a test to accept connections on addr.
func waitListening(t testing.TB, addr string) {
	t.Helper()
	if err := waitListeningOrExit(addr, nil); err != nil {
		t.Fatal(err)
	}
}

// startProcess starts cmd with its stderr captured (readable while it runs), kills it when the
// test ends, and returns a channel that receives its exit.
func startProcess(t testing.TB, cmd *exec.Cmd) (exited chan error, stderr *testenv.SyncBuffer) {
	t.Helper()
	stderr = &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return exited, stderr
}

// waitListeningOrExit waits up to 20 s for addr to accept connections and returns nil, or an
// error at once if the process whose exit exited reports ends first (a test then shows its
// stderr instead of waiting out the deadline). A nil exited waits for the address alone.
func waitListeningOrExit(addr string, exited <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the process exited before listening on %s: %v", addr, err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after 20 s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopProcess sends the process SIGTERM and waits up to within for it to exit: nil when it
// exited with status 0.
func stopProcess(cmd *exec.Cmd, exited <-chan error, within time.Duration) error {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		return err
	case <-time.After(within):
		return fmt.Errorf("still running %v after SIGTERM", within)
	}
}
