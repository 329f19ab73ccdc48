//go:build shadowonly

package main

import (
	"log/slog"

	"github.com/spf13/cobra"
)

// The shadow-only build (go build -tags shadowonly ./cmd/srctl; make build writes it to
// bin/srctl-shadow; the image srctl:VERSION-shadow): srctl shadow, healthcheck and version, the
// same code and flags as in the full srctl, without the Iceberg, SQLite, PostgreSQL, Arrow and
// Parquet code that the other commands link. Package initialisation of that code touches its
// pages and allocates (iceberg-go's substrait extensions alone: 32 MB, 90 ms), so a proxy that
// never uses it carries ~50 MB more RSS from its first second (README: "Measured"). Its log sink
// is JSONL only (a directory, gs:// or s3://); srctl lake import loads those logs into Iceberg.
// This package's tests run with the full build: TestShadowOnlyBuild builds this one and runs it as
// a process, and make lint vets it (test files that need other commands are !shadowonly).

// buildNote ends the platform in srctl version's output, so an operator can tell the builds apart.
const buildNote = ", shadow-only build"

const rootLong = `This srctl is the shadow-only build: the MySQL-protocol shadow proxy alone, for deployments where
its memory matters (the full srctl has every other command and Iceberg log sinks).

  srctl shadow         MySQL-protocol proxy: primary answers the client, a copy goes to the
                       shadow; logs tell slowdowns, errors and wrong results apart
  srctl healthcheck    the container probe

` + envHelp

func subcommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newVersionCmd(g), newShadowCmd(g), newHealthcheckCmd(g)}
}

// lakeHandoff has nothing to hand off: this build has no lake commands, and refuses an Iceberg
// log sink itself (shadow_iceberg_off.go).
func lakeHandoff(*cobra.Command, []string) error { return nil }

// warnVersionSkew: this build is never handed an invocation.
func warnVersionSkew(*slog.Logger) {}
