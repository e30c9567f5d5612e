// A small MCP server over stdio (newline-delimited JSON-RPC), for the harness's MCP tests. It
// runs in a run's sandbox, where /workspace is the run's workspace. Tools: note (appends a line
// to notes.log and answers how many there are), wait (answers once /workspace/release exists),
// secret (says whether NOTES_TOKEN reached it and how long it is, never the value).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const tools = [
  { name: 'note', description: 'Append a line to notes.log.', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
  { name: 'wait', description: 'Answer once the file release exists.', inputSchema: { type: 'object', properties: {} } },
  { name: 'secret', description: 'Whether the server has its token.', inputSchema: { type: 'object', properties: {} } },
];
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const text = (t) => ({ content: [{ type: 'text', text: t }] });

createInterface({ input: process.stdin }).on('line', async (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  if (m.method === 'initialize') {
    send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'notes', version: '1' } } });
  } else if (m.method === 'tools/list') {
    send({ jsonrpc: '2.0', id: m.id, result: { tools } });
  } else if (m.method === 'tools/call') {
    const { name, arguments: args } = m.params;
    if (name === 'note') {
      appendFileSync('/workspace/notes.log', `${args.text}\n`);
      const n = readFileSync('/workspace/notes.log', 'utf8').trim().split('\n').length;
      send({ jsonrpc: '2.0', id: m.id, result: text(`noted (${n} notes)`) });
    } else if (name === 'wait') {
      appendFileSync('/workspace/waiting', 'x');
      while (!existsSync('/workspace/release')) await new Promise((r) => setTimeout(r, 50));
      send({ jsonrpc: '2.0', id: m.id, result: text('released') });
    } else if (name === 'secret') {
      const t = process.env.NOTES_TOKEN;
      send({ jsonrpc: '2.0', id: m.id, result: text(t ? `token of ${t.length} characters` : 'no token') });
    }
  } else {
    send({ jsonrpc: '2.0', id: m.id, result: {} });
  }
});
