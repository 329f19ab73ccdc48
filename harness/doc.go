// Package harness is `srctl compare-baseline`: it runs a baseline and a candidate SQL statement
// against one server, interleaved and several times, and compares what they return (as
// multisets, or in order under a top-level ORDER BY), how long they take (Mann-Whitney and
// Hodges-Lehmann on log times), their plans and, on StarRocks, their profiles; then it passes
// or fails the change with a report a reviewer can read.
//
// Files: dsn.go (connection strings, redaction), statement.go (read-only guard, ORDER BY
// detection), server.go (server detection and cache busting), run.go (execution, timeouts),
// rows.go (result comparison), compare.go (one case end to end, verdicts), report.go (terminal,
// Markdown, JSON).
package harness
