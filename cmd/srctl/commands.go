//go:build !shadowonly

package main

import "github.com/spf13/cobra"

// This is the full srctl: every command. Built with -tags shadowonly, the binary holds srctl
// shadow alone (commands_shadowonly.go): see that file for why. Built with -tags splitlake, it has
// every command but links no Iceberg code, and runs srctl-lake for what needs it (lake_split.go).

const rootLong = `srctl closes the loop data -> diagnosis -> change -> validation for StarRocks in production:

  srctl collect        poll every FE for query details and execution profiles into a lake
                       (Hive-partitioned JSONL on local disk, GCS or S3), losing nothing
  srctl profile show   a profile's headline metrics, hot operators and operator tree
  srctl profile diff   what moved between two profiles, operator by operator
  srctl plan show      an EXPLAIN's scans, joins, exchanges and normalised plan
  srctl plan diff      what changed structurally between two EXPLAINs ("same plan" if nothing)
  srctl diff           rank per-endpoint regressions, shadow-only failures and result divergence
                       between primary and shadow from the shadow proxy's logs
  srctl validate       a window before a change against one after it, whole latency distribution
  srctl replay         an endpoint's real logged queries on two servers, results compared
  srctl capture        the full context of one endpoint for whoever fixes it
  srctl lake           load logs and profiles into Apache Iceberg tables; compact and expire them
  srctl compare-baseline  gate a SQL change in CI: baseline vs candidate on a real server
                       (rows, latency statistics, EXPLAIN structure, StarRocks profiles)
  srctl shadow         MySQL-protocol proxy: primary answers the client, a copy goes to the
                       shadow; logs tell slowdowns, errors and wrong results apart

` + envHelp

func subcommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newVersionCmd(g), newCollectCmd(g), newProfileCmd(g), newPlanCmd(g), newDiffCmd(g),
		newValidateCmd(g), newReplayCmd(g), newCaptureCmd(g), newCompareBaselineCmd(g), newLakeCmd(g),
		newShadowCmd(g), newHealthcheckCmd(g)}
}
