// Works around a bug of icebird 0.3.1's dependency hyparquet-compressors (1.1.1 and 1.1.2):
// its gunzip, which icebird uses for Avro's "deflate" codec, takes input without a gzip header
// as raw deflate (right: the Avro spec's deflate codec is RFC 1951 with no header or checksum)
// but then looks past the end of the stream for another gzip member whenever its output buffer
// is not exactly full, and restarts decoding at offset 0, failing with "offset is out of
// bounds". srctl's manifests are valid raw deflate (zlib's inflateRaw reads them whole, with no
// byte left over), so only icebird's Avro reader gets Node's zlib instead; its Parquet reading
// keeps its own codecs.
export async function resolve(specifier, context, next) {
  if (specifier === 'hyparquet-compressors' && context.parentURL?.includes('/icebird/src/avro/')) {
    return { url: new URL('./deflate.mjs', import.meta.url).href, shortCircuit: true }
  }
  return next(specifier, context)
}
