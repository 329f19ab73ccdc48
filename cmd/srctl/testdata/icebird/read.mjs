// Reads one Iceberg table with icebird and prints its rows as JSON lines, for srctl's interop
// test (cmd/srctl/icebird_test.go). Usage: node --import ./register.mjs read.mjs TABLE_DIR METADATA_FILE
//
// icebird fetches every file by URL. The metadata srctl's local catalog writes holds absolute
// file:// locations, which Node's fetch does not serve: the fetch below reads them from disk,
// with the HEAD and Range requests icebird's Parquet reader makes. Other URLs are refused, so
// the test cannot reach the network.
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'

globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input.url ?? String(input)
  if (!url.startsWith('file://')) throw new Error(`refusing to fetch ${url}: the test reads local files only`)
  const path = fileURLToPath(url)
  const size = (await stat(path)).size
  if ((init.method ?? 'GET') === 'HEAD') {
    return new Response(null, { status: 200, headers: { 'content-length': String(size) } })
  }
  const data = await readFile(path)
  const range = new Headers(init.headers ?? {}).get('range')
  const m = range && /^bytes=(\d+)-(\d*)$/.exec(range)
  if (!m) return new Response(data, { status: 200, headers: { 'content-length': String(size) } })
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  const part = data.subarray(start, end + 1)
  return new Response(part, {
    status: 206,
    headers: { 'content-length': String(part.length), 'content-range': `bytes ${start}-${end}/${size}` },
  })
}

const { icebergRead } = await import('icebird')
const [tableDir, metadataFileName] = process.argv.slice(2)
const rows = await icebergRead({ tableUrl: pathToFileURL(tableDir).href, metadataFileName })
const out = rows.map(r => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? Number(v) : v)))
process.stdout.write(out.join('\n') + '\n')
