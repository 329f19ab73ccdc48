// Package collector polls StarRocks FEs for query details and execution profiles and writes one
// record per finished or failed query to a sink, losing nothing it could have seen.
//
// The model, per FE: one cursor (the FE's synthetic eventTime), polled strictly-greater on a
// ticker; RUNNING entries are remembered and completed by their terminal entry; terminal entries
// are deduplicated by query id (bounded LRU with TTL), get their profile fetched with bounded
// concurrency (404 retried with backoff, since profiles are built asynchronously), and become
// records. A single writer batches records into Hive-partitioned JSONL objects. The cursor that is
// checkpointed only ever covers records that are durable — in the sink, or in a local spill file
// when the sink is down — so a crash repeats records (at-least-once; readers drop repeats by
// (cluster, sr_query_id)) but never skips one. Memory is bounded by --max-buffered-bytes: when it
// is reached, polling pauses instead of dropping.
//
// Goroutines: one discovery loop; per FE one poll loop, one fetch dispatcher and N fetch workers;
// one writer. Stopping cancels the pollers and fetchers, waits for them, then flushes what is
// complete within the shutdown timeout.
package collector
