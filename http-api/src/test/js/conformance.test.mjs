// The Durable Streams server conformance suite (pinned in package.json), pointed at DS_URL.
// Run by io.tether.http.streams.DurableStreamsConformanceTest; by hand:
//   DS_URL=http://127.0.0.1:PORT npx vitest run conformance.test.mjs
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

if (!process.env.DS_URL) {
  throw new Error("DS_URL must name the server under test, e.g. http://127.0.0.1:8080")
}

runConformanceTests({ baseUrl: process.env.DS_URL })
