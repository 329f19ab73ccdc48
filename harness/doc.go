// Package harness will hold `srctl compare-baseline`: SQL rendering, execution over the MySQL
// protocol, cache busting, result, plan and profile comparison, verdicts and reports. Nothing is
// implemented yet; the package exists so that the repository layout shows the architecture.
package harness
