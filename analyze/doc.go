// Package analyze holds srctl's analysis code. Its sub-packages are leaves usable alone (SQL
// fingerprints and endpoint tags, profile and plan parsers, statistics); the diff pipeline that
// combines them lives here as read -> classify -> pair -> summarise -> rank -> render.
package analyze
