//go:build !shadowonly

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/srctl/srctl/internal/mysqlwire"
)

// childEnv makes the test binary act as the srctl binary: tests that need a real process (to
// SIGKILL it) re-execute themselves with the command line in this variable.
const childEnv = "SRCTL_TEST_AS_SRCTL"

// fakeMySQLEnv makes the test binary a MySQL-protocol test double (mysqlwire.FakeServer) that
// prints its address and serves until SIGTERM: a process of its own, so that tests of many
// connections spread their descriptors over processes.
const fakeMySQLEnv = "SRCTL_TEST_AS_FAKE_MYSQL"

// plainRelayEnv ("LISTEN,TARGET") makes the test binary a plain TCP relay (every byte copied
// through the process both ways, nothing parsed, nothing logged): BenchmarkShadow's floor, what
// any proxy that reads what it relays costs on the machine. It prints its address and serves
// until SIGTERM.
const plainRelayEnv = "SRCTL_TEST_AS_PLAIN_RELAY"

func TestMain(m *testing.M) {
	if os.Getenv(fakeMySQLEnv) != "" {
		fs, err := mysqlwire.StartFake()
		if err != nil {
			panic(err)
		}
		fmt.Println(fs.Addr())
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		<-ctx.Done()
		stop()
		fs.Close()
		os.Exit(0)
	}
	if spec := os.Getenv(plainCollectorEnv); spec != "" {
		os.Exit(runPlainCollector(spec))
	}
	if spec := os.Getenv(plainRelayEnv); spec != "" {
		os.Exit(plainRelay(spec))
	}
	if args := os.Getenv(childEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, argv, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	code := m.Run()
	removeProductBinary()
	// The generated datasets the CLI tests share.
	for _, dir := range []string{diffDataDir, validateDataDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}
