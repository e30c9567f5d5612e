// The start page: open or create a session, start a scripted demo run, see recent runs.

import { runs, sessions } from './api.js';
import { clear, el } from './dom.js';

const go = (hash) => { location.hash = hash; };

export function mountHomeView(root) {
  const sessionId = el('input', { id: 'open-session-id', placeholder: 'session id, e.g. demo', required: true });
  const message = el('p', { class: 'muted small', id: 'home-message' });
  const recent = el('div', { id: 'recent-runs' }, el('p', { class: 'muted' }, 'loading…'));
  const mine = el('div', { id: 'my-sessions' }, el('p', { class: 'muted' }, 'loading…'));
  const prompt = el('input', { id: 'demo-prompt', value: 'A command-line tool that turns titles into URL slugs.' });

  const openSession = async (event) => {
    event.preventDefault();
    const id = sessionId.value.trim();
    try {
      await sessions.create(id);
    } catch (e) {
      // 409: it exists with another content type; the view will say what it can read.
      if (e.status !== 409) { message.textContent = `could not open ${id}: ${e.detail}`; return; }
    }
    go(`#/session/${encodeURIComponent(id)}`);
  };
  const startDemo = async (event) => {
    event.preventDefault();
    message.textContent = 'starting a scripted run…';
    try {
      const run = await runs.create({ prompt: prompt.value, model: 'scripted:demo' });
      go(`#/run/${encodeURIComponent(run.runId)}`);
    } catch (e) {
      message.textContent = `the run was refused: ${e.detail ?? e.message}`;
    }
  };

  clear(root).append(el('section', { class: 'home' },
    el('div', { class: 'grid2' },
      el('form', { class: 'card', onsubmit: openSession },
        el('h3', {}, 'Watch a session'),
        el('p', { class: 'muted small' }, 'A session is a durable stream of agent events. Open one by id (it is created as a JSON session if it does not exist) and watch it live.'),
        el('div', { class: 'row' }, sessionId, el('button', { type: 'submit' }, 'Open'))),
      el('form', { class: 'card', onsubmit: startDemo },
        el('h3', {}, 'Start a harness run'),
        el('p', { class: 'muted small' }, 'Planner, Generator and Evaluator replaying the offline scripted demo (its tools really run).'),
        el('div', { class: 'row' }, prompt, el('button', { type: 'submit', id: 'start-demo' }, 'Start scripted run')))),
    message,
    el('div', { class: 'card' }, el('h3', {}, 'Your sessions'), mine),
    el('div', { class: 'card' }, el('h3', {}, 'Recent runs'), recent)));

  sessions.list().then(({ sessions: list }) => {
    clear(mine).append(list.length ? el('table', { class: 'sessions' },
      el('thead', {}, el('tr', {}, ...['session', 'present', 'runs', 'at offset'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...list.map((s) => el('tr', {},
        el('td', {}, el('a', { href: `#/session/${encodeURIComponent(s.id)}` }, el('code', {}, s.id)),
          s.closed ? el('span', { class: 'pill' }, 'closed') : ''),
        el('td', {}, (s.present ?? []).map((p) => p.device).join(', ') || '—'),
        el('td', {}, (s.runs ?? []).map((r) => `${r.run} ${r.status ?? 'running'}`).join(', ') || '—'),
        el('td', { class: 'muted small' }, s.tail ?? '')))))
      : el('p', { class: 'muted' }, 'none yet: open one above'));
  }).catch((e) => clear(mine).append(el('p', { class: 'muted' }, `sessions unavailable: ${e.detail ?? e.message}`)));

  runs.list(20).then(({ runs: list }) => {
    clear(recent).append(list.length ? el('table', { class: 'runs' },
      el('thead', {}, el('tr', {}, ...['run', 'prompt', 'phase', 'sprint', 'tokens'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...list.map((r) => el('tr', {},
        el('td', {}, el('a', { href: `#/run/${encodeURIComponent(r.runId)}` }, el('code', {}, r.runId.slice(0, 8)))),
        el('td', {}, r.prompt),
        el('td', {}, el('span', { class: `pill ${r.phase}` }, r.phase.replaceAll('_', ' '))),
        el('td', {}, `${r.sprint} / ${r.sprints.length}`),
        el('td', {}, String(r.budget.inputTokens + r.budget.outputTokens))))))
      : el('p', { class: 'muted' }, 'no runs yet'));
  }).catch((e) => clear(recent).append(el('p', { class: 'muted' }, `runs unavailable: ${e.detail ?? e.message}`)));
  return () => {};
}
