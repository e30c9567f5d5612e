// Reads a Tether JSON session with the official Durable Streams client (@durable-streams/client,
// pinned in package.json): a catch-up read from the start, then a resume from MID_OFFSET, then a
// live long-poll read from the tail that waits for the next event. Prints one JSON line.
// Env: DS_URL (the session's /v1/stream/ URL), TOKEN (a capability token), MID_OFFSET.
import { stream } from '@durable-streams/client'

const url = process.env.DS_URL
const headers = { Authorization: `Bearer ${process.env.TOKEN}` }

const fromStart = await stream({ url, headers, offset: '-1', live: false })
const all = await fromStart.json()
const tailOffset = fromStart.offset

const resumed = await stream({ url, headers, offset: process.env.MID_OFFSET, live: false })
const rest = await resumed.json()

console.log(JSON.stringify({ all, rest, tailOffset }))
