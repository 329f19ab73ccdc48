// What icebird's Avro reader imports from hyparquet-compressors, backed by Node's zlib (see
// hooks.mjs): gzip when the input has a gzip header, raw deflate (Avro's codec) otherwise.
import { gunzipSync, inflateRawSync } from 'node:zlib'

export function gunzip(input) {
  const isGzip = input[0] === 0x1f && input[1] === 0x8b
  return new Uint8Array(isGzip ? gunzipSync(input) : inflateRawSync(input))
}
