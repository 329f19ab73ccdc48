// Package testdouble holds srctl's test doubles: programs that stand in for components that
// cannot run on srctl's test machines. None of them is the real thing, and each sub-package's
// comment names the component it imitates and the facts it follows:
//
//   - fedouble: a StarRocks FE's HTTP API (/api/query_detail, /api/profile), with fault injection
//   - starrocksdouble: a StarRocks FE's MySQL port (StarRocks-only statements; the rest goes to MariaDB)
//   - restdouble: an Apache Iceberg REST catalog server (over an SQL catalog in SQLite)
//   - trafficgen: shadow-proxy logs and profile records with planted differences (test data)
//
// Production code never imports these packages (architecture_test.go checks it); tests, benchmarks,
// the demos and the cmd/srctl-*-double programs do.
package testdouble
