//go:build !shadowonly && splitlake

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/collector"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/source"
	"github.com/srctl/srctl/shadowproxy"
)

// buildNote ends the platform in srctl version's output, so an operator can tell the builds apart.
const buildNote = ", split build: Iceberg work runs " + lakeBinaryName

// lakeHandoff replaces this process by srctl-lake, with the same arguments and environment, when
// the invocation needs Iceberg (needsLake). It runs in the root command's pre-run, after the
// flags and the environment are read and before any command does anything, so nothing is opened
// twice. On success it does not return.
func lakeHandoff(cmd *cobra.Command, args []string) error {
	if !needsLake(cmd, args) {
		return nil
	}
	self, _ := os.Executable()
	if from := os.Getenv(lakeHandoffEnv); from != "" {
		return fmt.Errorf("%s ran %s, which is also a split build of srctl (without Iceberg): "+
			"build %s without -tags splitlake (make build does)", from, self, lakeBinaryName)
	}
	bin, err := findLakeBinary(self)
	if err != nil {
		return err
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { // a child reads the first of duplicates
		return strings.HasPrefix(kv, lakeHandoffEnv+"=") || strings.HasPrefix(kv, lakeHandoffVersionEnv+"=")
	})
	env = append(env, lakeHandoffEnv+"="+self, lakeHandoffVersionEnv+"="+versionString())
	// os.Args, not cobra's view of them: srctl-lake must parse exactly what the user typed.
	return execLake(bin, os.Args[1:], env)
}

// findLakeBinary finds srctl-lake: beside self, this srctl's executable (os.Executable: on Linux
// the real path already; elsewhere also beside a link's target), then on PATH (never in the
// current directory through a relative PATH entry: exec.LookPath refuses).
func findLakeBinary(self string) (string, error) {
	var tried []string
	if self != "" {
		dirs := []string{filepath.Dir(self)}
		if real, err := filepath.EvalSymlinks(self); err == nil && filepath.Dir(real) != dirs[0] {
			dirs = append(dirs, filepath.Dir(real))
		}
		for _, d := range dirs {
			p := filepath.Join(d, lakeBinaryName)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return p, nil
			}
			tried = append(tried, p)
		}
	}
	if p, err := exec.LookPath(lakeBinaryName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("this srctl is the split build, without Iceberg code, and this command reads or writes an "+
		"iceberg:// table: it runs %s for that, found neither at %s nor on PATH. Build it beside srctl (make build, or "+
		"go build -o %s ./cmd/srctl), or use a standard build of srctl (go build ./cmd/srctl)",
		lakeBinaryName, strings.Join(tried, " nor at "), lakeBinaryName)
}

// errNotHandedOff is what the Iceberg entry points of the split build return. needsLake hands
// every invocation that names a table to srctl-lake first, so reaching one is a bug in that rule.
var errNotHandedOff = errors.New("this srctl is the split build, without Iceberg code, and did not hand this command to " +
	lakeBinaryName + " (a bug: please report the command line); run " + lakeBinaryName + " with the same arguments")

func (o *lakeOptions) openCatalog(context.Context, lakehouse.TableURI) (source.Catalog, error) {
	return nil, errNotHandedOff
}

func openProfileTable(context.Context, *lakeOptions, lakehouse.TableURI) (collector.Sink, func(), error) {
	return nil, nil, errNotHandedOff
}

func openProxyLogTable(context.Context, *lakeOptions, lakehouse.TableURI) (shadowproxy.LogWriter, func(), error) {
	return nil, nil, errNotHandedOff
}

func runLakeCompact(context.Context, *globals, *lakeOptions, lakehouse.TableURI, time.Time, time.Time, int64) error {
	return errNotHandedOff
}

func runLakeExpire(context.Context, *globals, *lakeOptions, lakehouse.TableURI, time.Duration, int) error {
	return errNotHandedOff
}

func runLakeImport(context.Context, *globals, *lakeOptions, []string, lakehouse.TableURI, int, bool, io.Reader) error {
	return errNotHandedOff
}
