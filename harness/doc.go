// Package harness will be `srctl compare-baseline`: it runs a baseline and a candidate SQL
// statement against one server, interleaved and several times, and compares what they return,
// how long they take, their plans and, on StarRocks, their profiles; then it passes or fails
// the change with a report a reviewer can read.
//
// In place so far (the command is not wired yet): dsn.go (connection strings, redaction),
// statement.go (read-only guard, ORDER BY detection; statements are split by fingerprint.Statements), server.go (server
// detection, cache busting), run.go (sessions, runs with a KILL QUERY timeout). The latency
// statistics are analyze/stats.MannWhitney.
package harness
