// Starts the Durable Streams reference server in its file-backed mode, as the benchmark peer.
// Usage: node --expose-gc server.mjs <port> <dataDir> [longPollTimeoutMs] [maxFileHandles]
// Prints "READY <baseUrl>" once listening; stops cleanly on SIGTERM or SIGINT.
//
// maxFileHandles: the file-backed store keeps at most this many stream files open (the store's
// own option; DurableStreamTestServer always builds its store with the default, 100). With more
// streams written at once than that, an append whose file is evicted between its write and its
// fdatasync fails with "Cannot fsync: handle not found", which the server answers as
// 404 "Stream not found" (see benchmarks/README.md, "The peer's file handles"). Given, the store
// is rebuilt with that limit before the server starts; absent or 0, the default stays.
//
// Reads commands from stdin, one a line: "heap" runs a full collection (needs --expose-gc) and
// prints "HEAP {json}" with process.memoryUsage() afterwards, the peer's live heap.
import { createInterface } from "node:readline"
import { DurableStreamTestServer, FileBackedStreamStore } from "@durable-streams/server"

const [port, dataDir, longPollTimeout, maxFileHandles] = process.argv.slice(2)
if (!port || !dataDir) {
  console.error("usage: node server.mjs <port> <dataDir> [longPollTimeoutMs] [maxFileHandles]")
  process.exit(2)
}

const server = new DurableStreamTestServer({
  port: Number(port),
  host: "127.0.0.1",
  dataDir,
  longPollTimeout: Number(longPollTimeout ?? 30000),
  // Same bytes on the wire as the JDK client sees from Tether: no gzip negotiation either way.
  compression: false,
})
if (Number(maxFileHandles) > 0) {
  await server.store.close()
  server.store = new FileBackedStreamStore({ dataDir, maxFileHandles: Number(maxFileHandles) })
}
await server.start()
console.log(`READY ${server.url}`)

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "heap") return
  if (typeof globalThis.gc === "function") globalThis.gc()
  const m = process.memoryUsage()
  console.log(`HEAP ${JSON.stringify({ ...m, collected: typeof globalThis.gc === "function" })}`)
})

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
