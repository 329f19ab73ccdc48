// Package deploy holds the operator's kit: Prometheus alerting rules (prometheus/) and Grafana
// dashboards (grafana/) for srctl collect and srctl shadow. It has no code; its test parses the
// rules with Prometheus' own rule parser and every PromQL expression of the rules and the
// dashboards with Prometheus' PromQL parser, and checks that each names only metrics the
// commands really register.
package deploy
