// Package lakehouse owns what srctl writes and reads: the record schemas (profile records written by
// `srctl collect`, proxy-log records written by the shadow proxy), their JSONL encoding, the Hive
// partition layout and the object stores that hold them.
//
// The model: collector, harness and the diff pipeline never talk to each other; they meet at
// records in the lake. Records therefore keep the names and types of the files users already query
// (BigQuery external tables, Trino, StarRocks), and srctl only ever adds keys, never renames them.
package lakehouse
