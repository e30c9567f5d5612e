// The session view: the live chat, the connection state, Stop and steer, presence and runs.

import { Chat } from './chat.js';
import { clear, deviceId, el } from './dom.js';
import { openFeed } from './feed.js';

export function mountSessionView(root, sessionId) {
  const chatBox = el('div', { class: 'chat', id: 'chat' });
  const conn = el('span', { id: 'connection', class: 'conn', 'data-state': 'connecting' }, 'connecting');
  const connDetail = el('div', { class: 'muted small', id: 'connection-detail' });
  const presence = el('ul', { id: 'presence', class: 'plain' });
  const runsList = el('ul', { id: 'runs', class: 'plain' });
  const fence = el('div', { id: 'fence', class: 'fence', hidden: true });
  const steerText = el('input', { id: 'steer-text', placeholder: 'Steer the running agent…', autocomplete: 'off' });
  const stop = el('button', { id: 'stop', class: 'danger', type: 'button', disabled: true }, '■ Stop');
  const steer = el('button', { id: 'steer', type: 'submit', disabled: true }, 'Steer');
  const feedback = el('div', { id: 'control-feedback', class: 'muted small' });
  const device = deviceId();
  const states = [];

  const refreshSide = (chat) => {
    clear(presence).append(...(chat.present.size
      ? [...chat.present].map(([d, kind]) => el('li', { 'data-device': d },
        el('span', { class: `dot ${kind}` }), d, d === device ? el('span', { class: 'muted' }, ' (this tab)') : '',
        el('span', { class: 'muted' }, ` · ${kind}`)))
      : [el('li', { class: 'muted' }, feed?.transport === 'websocket' ? 'nobody attached' : 'presence needs the WebSocket')]));
    clear(runsList).append(...[...chat.runs].reverse().slice(0, 12).map(([id, r]) =>
      el('li', { 'data-run': id }, el('code', {}, id), ' ', el('span', { class: `pill ${r.status}` }, r.status),
        r.fence ? el('span', { class: 'muted small' }, ` fence ${r.fence}`) : '')));
    const running = chat.runningRun();
    stop.disabled = !running;
    steer.disabled = !running;
    stop.title = running ? `cancel run ${running}` : 'no run is running';
  };
  let chat = new Chat(chatBox, { onChange: (c) => refreshSide(c) });
  let connText = () => '';
  let detailPending = false;
  const showOffsetSoon = () => {
    if (detailPending) return;
    detailPending = true;
    requestAnimationFrame(() => { detailPending = false; connDetail.textContent = connText(); });
  };

  let feed = null;
  feed = openFeed(sessionId, {
    onEvents: (list) => {
      for (const { offset, event } of list) chat.apply(event, offset ?? null);
      showOffsetSoon();
    },
    onUpToDate: () => refreshSide(chat),
    onReset: () => {
      clear(chatBox);
      chat = new Chat(chatBox, { onChange: (c) => refreshSide(c) });
      window.tetherConsole.chat = chat;
    },
    onState: ({ state, offset, transport, attempt, resumedAt, error }) => {
      states.push(resumedAt ? `${state}@${resumedAt}` : state);
      conn.dataset.state = state;
      conn.textContent = state === 'live' && resumedAt ? 'live (resumed)' : state;
      connText = () => [
        transport && `via ${transport}`,
        state === 'reconnecting' && `attempt ${attempt}, will resume after offset ${offset}`,
        state === 'live' && resumedAt && `resumed at offset ${resumedAt}`,
        state === 'live' && `now at offset ${feed?.offset ?? offset}`,
        error,
      ].filter(Boolean).join(' · ');
      connDetail.textContent = connText();
      conn.dataset.resumedAt = resumedAt ?? '';
    },
  }, { device, preferWebSocket: new URLSearchParams(location.search).get('transport') !== 'long-poll' });

  stop.addEventListener('click', async () => {
    const run = chat.runningRun();
    if (!run) return;
    stop.disabled = true;
    feedback.textContent = `cancelling run ${run}…`;
    try {
      const reply = await feed.control({ type: 'cancel', run });
      const at = reply.fence ?? reply.offset;
      fence.hidden = false;
      fence.dataset.fence = at;
      fence.dataset.run = run;
      fence.textContent = `Stopped run ${run}: the fence fell at offset ${at}. Output after it is refused.`;
      feedback.textContent = '';
    } catch (error) {
      feedback.textContent = `cancel refused: ${error.detail ?? error.message ?? error.code}`;
      stop.disabled = false;
    }
  });
  const form = el('form', { class: 'composer', onsubmit: async (event) => {
    event.preventDefault();
    const run = chat.runningRun();
    const text = steerText.value.trim();
    if (!run || !text) return;
    try {
      const reply = await feed.control({ type: 'steer', run, text });
      feedback.textContent = `steer accepted${reply.offset ? ` at offset ${reply.offset}` : ''}`;
      steerText.value = '';
    } catch (error) {
      feedback.textContent = `steer refused: ${error.detail ?? error.message ?? error.code}`;
    }
  } }, steerText, steer, stop);

  clear(root).append(el('section', { class: 'session' },
    el('div', { class: 'main-col' },
      el('h2', {}, 'Session ', el('code', { id: 'session-id' }, sessionId)),
      chatBox, fence, form, feedback),
    el('aside', {},
      el('div', { class: 'card' }, el('h3', {}, 'Connection'), conn, connDetail),
      el('div', { class: 'card' }, el('h3', {}, 'Present'), presence),
      el('div', { class: 'card' }, el('h3', {}, 'Runs'), runsList),
      el('div', { class: 'card small muted' }, `This tab is ${device}. Reload or open a second tab: `
        + 'the view resumes where the stream is, with no text twice and none missing.'))));
  refreshSide(chat);
  window.tetherConsole = { feed, chat, states };
  return () => feed.close();
}
