// Package harness is `srctl compare-baseline`: it runs a baseline and a candidate SQL text
// against one server (StarRocks, MySQL or MariaDB), interleaved and several times, and compares
// what they return, how long they take, their plans and, on StarRocks, their profiles; then it
// passes or fails the change with a report a reviewer can read.
//
// The model: a Case is two texts; a Comparer (one per server) runs each case on two fresh
// connections with the same session settings and returns a CaseResult whose Bits say what
// failed; a Report collects the results and renders them.
//
//   - cases.go: where texts come from (files, git revisions, changed files, templates with
//     parameter sets, YAML suites)
//   - dsn.go, statement.go, server.go: connection strings and redaction, the read-only guard and
//     ORDER BY detection, server detection and cache-busting settings
//   - run.go: sessions whose runs are killed with KILL QUERY from a control connection on timeout
//   - rows.go, rowdiff.go: streaming row hashes and result digests; the locate pass that finds
//     the differing rows when digests differ
//   - latency.go: interleaved timed runs, Mann-Whitney and Hodges-Lehmann (analyze/stats), the
//     verdict with its threshold, floor and confirmation set
//   - compare.go: one case end to end, plans (analyze/plan) and profiles (analyze/profile)
//   - report.go: text, Markdown and JSON
//
// A Comparer is used by one goroutine at a time.
package harness
