// Starts the Durable Streams reference server in its file-backed mode, as the benchmark peer.
// Usage: node server.mjs <port> <dataDir> [longPollTimeoutMs]
// Prints "READY <baseUrl>" once listening; stops cleanly on SIGTERM or SIGINT.
import { DurableStreamTestServer } from "@durable-streams/server"

const [port, dataDir, longPollTimeout] = process.argv.slice(2)
if (!port || !dataDir) {
  console.error("usage: node server.mjs <port> <dataDir> [longPollTimeoutMs]")
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
await server.start()
console.log(`READY ${server.baseUrl}`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
