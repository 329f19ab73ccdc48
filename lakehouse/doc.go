// Package lakehouse owns what srctl writes and reads: the record schemas (profile records written by
// `srctl collect`, proxy-log records written by the shadow proxy), their JSONL encoding, the Hive
// partition layout, and the one reader of stored JSONL(.gz) objects (OpenJSONL, ReadJSONL).
//
// The model: collector, harness and the diff pipeline never talk to each other; they meet at
// records in the lake. Records therefore keep the names and types of the files users already query
// (BigQuery external tables, Trino, StarRocks), and srctl only ever adds keys, never renames them.
//
// Sub-packages: objstore (file, mem, gs, s3 buckets), jsonl (codec), proxylog (the fast log
// decoder), icelake (Iceberg tables), and the two doors every command goes through: source (the
// one way in: input names to typed records) and sink (the one way out: batches stored once per id).
package lakehouse
