// Renders session events as a chat: messages grow with their token deltas, tool calls fold
// into one line each (open them for arguments and result), run and control events become
// notes. It also keeps what the session view needs beside the chat: the runs still running
// and who is present. Events must arrive once each, in offset order (feed.js sees to that).

import { el } from './dom.js';

// The same key the server's message roll-up uses: data.id, else run, producer and role.
const messageKey = (e) => e.data?.id ?? e.data?.callId
  ?? `${e.run ?? '-'}/${e.producer ?? '-'}/${e.data?.role ?? '-'}`;
const toolKey = (e) => e.data?.toolCallId ?? e.data?.id ?? `${e.run}/${e.data?.name}`;
const short = (id) => (id?.length > 14 ? `${id.slice(0, 8)}…` : id);
const deltaText = (d) => d?.text ?? d?.delta ?? d?.content ?? '';

export class Chat {
  constructor(container, { onChange = () => {} } = {}) {
    this.container = container;
    this.onChange = onChange;
    this.messages = new Map();
    this.tools = new Map();
    this.runs = new Map();      // run id -> {status, fence}
    this.present = new Map();   // device -> kind
    this.count = 0;
    // Follow the stream while the reader is at the bottom; leave them be once they scroll up.
    this.follow = true;
    this.autoTop = 0;
    container.addEventListener('scroll', () => {
      const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
      this.follow = nearBottom || container.scrollTop >= this.autoTop - 2;
    });
  }

  /** Applies one event; `offset` is its session offset when the transport knows it. */
  apply(event, offset) {
    this.count += 1;
    if (!event || typeof event !== 'object' || typeof event.type !== 'string') {
      this.note(`item: ${JSON.stringify(event)}`, 'raw', offset);
      return;
    }
    const d = event.data ?? {};
    if (event.run && !this.runs.has(event.run) && !event.type.startsWith('presence.')) {
      this.runs.set(event.run, { status: 'running' });
    }
    switch (event.type) {
      case 'message':
        this.message(event).add(deltaText(d));
        this.endMessage(event, d.status ?? 'complete');
        break;
      case 'message.start':
        // A replay flushes a message still open at the tail as a start with its text so far.
        this.message(event).add(deltaText(d));
        break;
      case 'message.delta':
        this.message(event).add(deltaText(d));
        break;
      case 'message.end':
        if (d.status === 'cancelled' && event.producer === 'tether') {
          // The session closed it when its run was cancelled or lost: it stops at the fence.
          this.stopMessage(this.message(event), d.reason ?? 'cancelled', this.runs.get(event.run)?.fence);
        } else {
          this.endMessage(event, d.status ?? 'complete', d.error);
        }
        break;
      case 'tool.call':
        this.tool(event).call(d);
        break;
      case 'tool.result':
        this.tool(event).result(d);
        break;
      case 'run.start':
        this.runs.set(event.run, { status: 'running' });
        this.note(`run ${short(event.run)} started${d.prompt ? `: ${d.prompt}` : ''}`, 'run', offset);
        break;
      case 'run.end': {
        const run = this.runs.get(event.run) ?? {};
        this.runs.set(event.run, { ...run, status: d.status ?? 'complete' });
        if (d.status === 'cancelled' || d.status === 'lost') this.stopMessages(event.run, d.status, run.fence);
        this.note(`run ${short(event.run)} ended: ${d.status ?? 'complete'}${d.reason ? ` (${d.reason})` : ''}`,
          `run ${d.status}`, offset);
        break;
      }
      case 'control.cancel': {
        const run = this.runs.get(event.run) ?? {};
        this.runs.set(event.run, { ...run, fence: offset });
        this.note(`cancel of ${event.run ? `run ${event.run}` : `message ${d.message}`} by ${event.producer ?? 'someone'}`
          + (d.device ? ` (${d.device})` : '')
          + (offset ? ` — fence at offset ${offset}` : ''), 'control cancel', offset);
        break;
      }
      case 'control.steer':
        this.note(`steer for run ${event.run}: “${d.text}”`, 'control', offset);
        break;
      case 'control.interrupt':
        this.note(`interrupt of run ${event.run}`, 'control', offset);
        break;
      case 'control.ack':
        this.note(`${d.kind ?? 'control'} acknowledged by ${event.producer}`
          + `${d.consumed === false ? ' (not consumed)' : ''}${d.text ? `: “${d.text}”` : ''}`,
          'control', offset);
        break;
      case 'presence.joined':
        this.present.set(d.device ?? event.producer, d.kind ?? 'client');
        break;
      case 'presence.left':
        this.present.delete(d.device ?? event.producer);
        break;
      case 'run.phase':
        this.note(`${d.role} · ${d.task?.replaceAll('_', ' ')} (sprint ${d.sprint}, attempt ${d.attempt})`,
          'phase', offset);
        break;
      case 'contract.state':
        this.note(`sprint ${d.sprint} contract ${d.state} (round ${d.round})`
          + (d.comments ? `: ${d.comments}` : ''), 'phase', offset);
        break;
      case 'evaluation.scores':
        this.note(`sprint ${d.sprint} attempt ${d.attempt} ${d.passed ? 'PASSED' : 'FAILED'} `
          + Object.entries(d.scores ?? {}).map(([k, v]) => `${k} ${v}`).join(', '),
          d.passed ? 'pass' : 'fail', offset);
        break;
      case 'run.interrupted':
        this.note(`${d.role} interrupted mid-call: ${d.toolCall ? `tool ${d.tool} in doubt` : 'model call re-issued'}`,
          'fail', offset);
        break;
      case 'budget.used':
      case 'run.spec':
        break;
      default:
        this.note(`${event.type} ${JSON.stringify(d)}`, 'raw', offset);
    }
    this.onChange(this, event);
    this.scrollSoon();
  }

  scrollSoon() {
    if (!this.follow || this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      if (this.follow) {
        this.container.scrollTop = this.container.scrollHeight;
        this.autoTop = this.container.scrollTop;
      }
    });
  }

  message(e) {
    const key = messageKey(e);
    let m = this.messages.get(key);
    if (!m) {
      const who = e.data?.role ?? e.producer ?? 'agent';
      const status = el('span', { class: 'status' }, 'streaming');
      // One text node per message, grown in place: appending is cheap however long it gets.
      const content = document.createTextNode('');
      const text = el('div', { class: 'text' }, content);
      const label = e.data?.scripted ? el('span', { class: 'badge' }, 'scripted') : '';
      const node = el('article', { class: `msg streaming who-${who}`, 'data-message-id': key, 'data-run': e.run ?? '' },
        el('header', {}, el('b', {}, who),
          e.producer && e.producer !== who ? el('span', { class: 'muted' }, ` (${e.producer})`) : '', e.run ? el('span', { class: 'muted', title: e.run }, ` · ${short(e.run)}`) : '',
          label, status),
        text);
      m = { node, text, status, key, add: (t) => { if (t) content.appendData(t); } };
      this.messages.set(key, m);
      this.append(node);
    }
    return m;
  }

  endMessage(e, status, error) {
    const m = this.message(e);
    m.node.classList.remove('streaming');
    m.node.classList.add(`end-${status}`);
    m.status.textContent = error ? `${status}: ${error}` : status;
  }

  /** Messages of a run that ended without their own end: they stop where the fence fell. */
  stopMessages(run, status, fence) {
    for (const m of this.messages.values()) {
      if (m.node.dataset.run === run && m.node.classList.contains('streaming')) this.stopMessage(m, status, fence);
    }
  }

  stopMessage(m, status, fence) {
    m.node.classList.remove('streaming');
    m.node.classList.add(`end-${status === 'lost' ? 'error' : 'cancelled'}`);
    m.status.textContent = fence ? `${status} at the fence` : status;
  }

  tool(e) {
    const key = toolKey(e);
    let t = this.tools.get(key);
    if (!t) {
      const summary = el('summary', {});
      const args = el('pre', { class: 'args' });
      const out = el('pre', { class: 'out' });
      const node = el('details', { class: 'tool', 'data-tool-id': key }, summary, args, out);
      let name = 'tool';
      let status = 'running';
      const label = () => { summary.textContent = `${e.data?.role ?? e.producer ?? ''} ⚙ ${name} — ${status}`; };
      t = {
        node,
        call(d) { name = d.name ?? name; args.textContent = JSON.stringify(d.arguments ?? {}, null, 2); label(); },
        result(d) { status = d.status ?? 'ok'; out.textContent = d.output ?? JSON.stringify(d); node.classList.add(`tool-${status}`); label(); },
      };
      label();
      this.tools.set(key, t);
      this.append(node);
    }
    return t;
  }

  note(text, kind, offset) {
    this.append(el('div', { class: `note ${kind}`, 'data-offset': offset ?? '' }, text));
  }

  append(node) {
    this.container.append(node);
  }

  /** The newest run that has not ended, or null. */
  runningRun() {
    let last = null;
    for (const [id, r] of this.runs) if (r.status === 'running') last = id;
    return last;
  }
}
