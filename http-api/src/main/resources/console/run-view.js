// The run dashboard: a harness run's spec, sprints (contract, attempts, rubric scores against
// thresholds), workspace files, budget, controls, and its session live beside them.
// Sources: GET /runs/{id} (the run's own summary), GET /runs/{id}/files (the workspace), and
// the run's durable session (contract states, evaluation feedback, budget limits, every role's
// live output).

import { authHeaders, runs } from './api.js';
import { Chat } from './chat.js';
import { clear, deviceId, el } from './dom.js';
import { openFeed } from './feed.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'budget_exhausted']);

/**
 * An <img> of a screenshot: fetched with the page's token in the Authorization header (an <img>
 * cannot send one, and the API takes query tokens only where a header is impossible).
 */
function screenshotImage(shot, alt) {
  const img = el('img', { class: 'screenshot', alt, 'data-path': shot.path });
  fetch(shot.url, { headers: authHeaders() })
    .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`${r.status}`))))
    .then((blob) => { img.src = URL.createObjectURL(blob); })
    .catch((e) => { img.alt = `${alt} (not loaded: ${e.message})`; });
  return img;
}
const fmt = (n, digits = 0) => (n ?? 0).toLocaleString('en-US', { maximumFractionDigits: digits });

/** Rubric and budget from the policy (a JSON object) a run.start event carries. */
export function parsePolicy(policy) {
  if (!policy || typeof policy !== 'object') {
    return { rubric: [], budget: null };
  }
  const b = policy.budget ?? {};
  return {
    rubric: (policy.rubric ?? []).map(({ name, weight, threshold }) => ({ name, weight, threshold })),
    budget: { maxTokens: b.maxTokens, maxUsd: b.maxUsd, maxWallClockMillis: b.maxWallClockMillis },
  };
}

function meter(label, used, max, unit = '', digits = 0) {
  const ratio = max > 0 ? Math.min(1, used / max) : 0;
  return el('div', { class: 'meter', 'data-meter': label },
    el('div', { class: 'meter-label' }, el('span', {}, label),
      el('span', {}, `${unit}${fmt(used, digits)} of ${max ? `${unit}${fmt(max, digits)}` : '—'}`)),
    el('div', { class: 'bar' }, el('div', { class: `fill ${ratio > 0.9 ? 'hot' : ''}`, style: `width:${(ratio * 100).toFixed(1)}%` })));
}

export function mountRunView(root, runId) {
  const state = {
    view: null, files: {}, policy: { rubric: [], budget: null }, startedAt: null,
    contracts: new Map(), evaluations: new Map(), screenshots: new Map(), budget: null, openFile: null,
  };
  const header = el('div', { class: 'run-head' });
  const error = el('div', { class: 'error', hidden: true });
  const steerText = el('input', { id: 'run-steer-text', placeholder: 'Steer: a note for the next role task…' });
  const controlFeedback = el('span', { id: 'run-control-feedback', class: 'muted small' });
  const control = (action, body) => async () => {
    controlFeedback.textContent = `${action}…`;
    try {
      state.view = await runs.control(runId, action, body?.());
      controlFeedback.textContent = `${action}: accepted`;
      if (action === 'steer') steerText.value = '';
      render();
    } catch (e) {
      controlFeedback.textContent = `${action} refused: ${e.detail ?? e.message}`;
    }
  };
  const buttons = {
    pause: el('button', { id: 'run-pause', type: 'button', onclick: control('pause') }, 'Pause'),
    resume: el('button', { id: 'run-resume', type: 'button', onclick: control('resume') }, 'Resume'),
    cancel: el('button', { id: 'run-cancel', class: 'danger', type: 'button',
      onclick: control('cancel', () => ({ reason: 'cancelled from the console' })) }, 'Cancel run'),
    steer: el('button', { id: 'run-steer', type: 'submit' }, 'Steer'),
  };
  const controls = el('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); if (steerText.value.trim()) control('steer', () => ({ text: steerText.value.trim() }))(); } },
    buttons.pause, buttons.resume, buttons.cancel, steerText, buttons.steer, controlFeedback);
  const status = el('div', { class: 'card', id: 'run-status' });
  const budget = el('div', { class: 'card', id: 'budget' });
  const spec = el('div', { class: 'card', id: 'spec' });
  const sprints = el('div', { id: 'sprints' });
  const files = el('div', { class: 'card', id: 'files' });
  const report = el('div', { class: 'card', id: 'report', hidden: true });
  const activity = el('div', { class: 'chat compact', id: 'activity' });
  const sessionLink = el('a', {}, 'open in the session view');

  clear(root).append(el('section', { class: 'run' }, header, error, controls,
    el('div', { class: 'grid2' }, status, budget), spec, sprints,
    el('div', { class: 'grid2' }, files,
      el('div', { class: 'card' }, el('h3', {}, 'Live session ', el('span', { class: 'muted small' }, sessionLink)), activity)),
    report));

  const chat = new Chat(activity, {
    onChange: (c, e) => {
      const d = e.data ?? {};
      if (e.type === 'run.start') {
        state.policy = parsePolicy(d.policy);
        state.startedAt = Date.parse(e.time) || null;
      } else if (e.type === 'contract.state') {
        const list = state.contracts.get(d.sprint) ?? [];
        list.push(d);
        state.contracts.set(d.sprint, list);
      } else if (e.type === 'evaluation.scores') {
        state.evaluations.set(`${d.sprint}/${d.attempt}`, d);
      } else if (e.type === 'budget.used') {
        state.budget = d;
      } else if (e.type === 'tool.screenshot') {
        const key = `${d.sprint}/${d.attempt}`;
        const list = state.screenshots.get(key) ?? [];
        if (!list.some((x) => x.path === d.path)) list.push(d);
        state.screenshots.set(key, list);
      } else {
        return;
      }
      render();
    },
  });

  function render() {
    const v = state.view;
    if (!v) return;
    const terminal = TERMINAL.has(v.phase);
    clear(header).append(el('h2', {}, 'Run ', el('code', { id: 'run-id' }, v.runId), ' ',
      el('span', { class: `pill ${v.phase}`, id: 'run-phase' }, v.phase.replaceAll('_', ' ')),
      v.paused ? el('span', { class: 'pill paused' }, 'paused') : '',
      v.scripted ? el('span', { class: 'badge', title: 'every role replays a recorded script' }, 'scripted') : ''),
    el('p', { class: 'prompt' }, v.prompt));
    buttons.pause.disabled = terminal || v.paused;
    buttons.resume.disabled = terminal || !v.paused;
    buttons.cancel.disabled = terminal;
    buttons.steer.disabled = terminal;
    sessionLink.href = `#/session/${encodeURIComponent(v.sessionId)}`;

    clear(status).append(el('h3', {}, 'Progress'),
      el('dl', {},
        el('dt', {}, 'phase'), el('dd', {}, v.phase.replaceAll('_', ' ')),
        el('dt', {}, 'sprint'), el('dd', {}, `${v.sprint} of ${v.sprints.length || '?'}`),
        el('dt', {}, 'attempt'), el('dd', {}, String(v.attempt)),
        el('dt', {}, 'contract round'), el('dd', {}, String(v.round)),
        el('dt', {}, 'working'), el('dd', {}, v.activeRole ? `${v.activeRole}: ${v.activeTask?.replaceAll('_', ' ')}` : '—'),
        el('dt', {}, 'models'), el('dd', {}, Object.entries(v.models ?? {}).map(([r, m]) => `${r} ${m}`).join(', ')),
        v.outcome ? [el('dt', {}, 'outcome'), el('dd', { id: 'run-outcome' }, v.outcome)] : ''));

    const limits = state.policy.budget ?? {};
    const maxTokens = state.budget?.maxTokens ?? limits.maxTokens;
    const maxUsd = state.budget?.maxUsd ?? limits.maxUsd;
    const elapsed = state.startedAt ? Math.max(0, Date.now() - state.startedAt) / 1000 : 0;
    clear(budget).append(el('h3', {}, 'Budget'),
      meter('tokens', v.budget.inputTokens + v.budget.outputTokens, maxTokens),
      meter('cost', v.budget.usd, maxUsd, '$', 4),
      !terminal && limits.maxWallClockMillis ? meter('wall clock (s)', elapsed, limits.maxWallClockMillis / 1000) : '',
      el('div', { class: 'muted small' }, `${fmt(v.budget.inputTokens)} in · ${fmt(v.budget.outputTokens)} out`),
      spendTable('per role', v.budget.byRole ?? {}, (k) => k, 'spend-by-role'),
      spendTable('per sprint', v.budget.bySprint ?? {}, (k) => (k === '0' ? 'planning' : `sprint ${k}`), 'spend-by-sprint'));

    clear(spec).append(el('h3', {}, 'Spec ', el('span', { class: 'muted small' }, 'spec.md')),
      state.files['spec.md'] ? el('pre', { class: 'doc' }, state.files['spec.md'])
        : el('p', { class: 'muted' }, v.phase === 'planning' ? 'the planner is writing the spec…' : 'no spec yet'));

    clear(sprints).append(...v.sprints.map((title, i) => sprintCard(v, i + 1, title)));

    // Screenshots are kept as base64 text; they show beside the scores instead.
    const paths = Object.keys(state.files).filter((p) => !p.endsWith('.base64'));
    clear(files).append(el('h3', {}, `Workspace files (${paths.length})`),
      el('ul', { class: 'plain files' }, ...paths.map((p) => el('li', { 'data-path': p },
        el('a', { href: '#', onclick: (e) => { e.preventDefault(); state.openFile = state.openFile === p ? null : p; render(); } }, p),
        el('span', { class: 'muted small' }, ` ${state.files[p].length} chars`)))),
      state.openFile && state.files[state.openFile] !== undefined
        ? el('pre', { class: 'doc', id: 'file-content' }, state.files[state.openFile]) : '');

    report.hidden = !v.report;
    if (v.report) clear(report).append(el('h3', {}, 'Final report'), el('pre', { class: 'doc' }, v.report));
  }

  /** What each role or sprint spent: tokens, USD, calls (estimated ones counted apart). */
  function spendTable(caption, spend, label, id) {
    const keys = Object.keys(spend);
    if (!keys.length) return '';
    return el('table', { class: 'scores spend', id },
      el('caption', { class: 'muted small' }, caption),
      el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'tokens in'), el('th', {}, 'out'), el('th', {}, 'USD'), el('th', {}, 'calls'))),
      el('tbody', {}, ...keys.map((k) => {
        const s = spend[k];
        return el('tr', { 'data-key': k }, el('td', {}, label(k)), el('td', {}, fmt(s.inputTokens)),
          el('td', {}, fmt(s.outputTokens)), el('td', {}, `$${fmt(s.usd, 4)}`),
          el('td', { title: s.estimated ? `${s.estimated} cut off and estimated` : '' }, s.estimated ? `${s.calls} (${s.estimated} est.)` : String(s.calls)));
      })));
  }

  function sprintCard(v, n, title) {
    const results = v.results.filter((r) => r.sprint === n);
    const passed = results.some((r) => r.passed);
    const current = v.sprint === n && !TERMINAL.has(v.phase);
    const label = passed ? 'passed' : current ? 'in progress'
      : results.length ? (n < v.sprint ? 'failed' : TERMINAL.has(v.phase) ? 'failed' : 'in progress') : n < v.sprint ? 'skipped' : 'pending';
    const contract = state.files[`contracts/sprint-${n}.md`];
    const rounds = state.contracts.get(n) ?? [];
    const criteria = state.policy.rubric.length ? state.policy.rubric
      : [...new Set(results.flatMap((r) => Object.keys(r.scores)))].map((name) => ({ name }));
    return el('div', { class: `card sprint ${label.replace(' ', '-')}`, 'data-sprint': n, 'data-state': label },
      el('h3', {}, `Sprint ${n}: ${title} `, el('span', { class: `pill ${label.replace(' ', '-')}` }, label)),
      el('details', { class: 'contract', open: current && !results.length },
        el('summary', {}, 'Contract ', rounds.length
          ? el('span', { class: 'muted small' }, rounds.map((r) => `round ${r.round} ${r.state}`).join(' → ')) : ''),
        contract ? el('pre', { class: 'doc' }, contract) : el('p', { class: 'muted' }, 'not proposed yet'),
        ...rounds.filter((r) => r.comments).map((r) => el('p', { class: 'small' }, el('b', {}, `evaluator, round ${r.round}: `), r.comments))),
      results.length ? el('table', { class: 'scores' },
        el('thead', {}, el('tr', {}, el('th', {}, 'attempt'),
          ...criteria.map((c) => el('th', {}, c.name, c.threshold !== undefined ? el('span', { class: 'muted small' }, ` ≥ ${c.threshold}`) : '')),
          el('th', {}, 'weighted'), el('th', {}, 'result'))),
        el('tbody', {}, ...results.map((r) => {
          const evaluation = state.evaluations.get(`${n}/${r.attempt}`);
          return [el('tr', { class: 'attempt', 'data-attempt': r.attempt, 'data-passed': String(r.passed) },
            el('td', {}, `#${r.attempt}`),
            ...criteria.map((c) => {
              const score = r.scores[c.name];
              const miss = c.threshold !== undefined && score !== undefined && score < c.threshold;
              return el('td', { 'data-criterion': c.name, class: miss ? 'miss' : 'hit' }, score === undefined ? '—' : fmt(score, 1));
            }),
            el('td', {}, fmt(r.weighted, 2)),
            el('td', {}, el('span', { class: `pill ${r.passed ? 'passed' : 'failed'}` }, r.passed ? 'passed' : 'failed'))),
          evaluation?.feedback ? el('tr', { class: 'feedback' }, el('td', { colspan: criteria.length + 3 },
            el('details', {}, el('summary', {}, 'evaluator feedback'), el('pre', { class: 'doc' }, evaluation.feedback)))) : '',
          (state.screenshots.get(`${n}/${r.attempt}`) ?? []).length ? el('tr', { class: 'screenshots' }, el('td', { colspan: criteria.length + 3 },
            ...(state.screenshots.get(`${n}/${r.attempt}`)).map((shot) => el('figure', { class: 'screenshot', title: `${shot.role}: ${shot.path}` },
              screenshotImage(shot, `${shot.role}'s screenshot, sprint ${n} attempt ${r.attempt}`),
              el('figcaption', { class: 'muted small' }, shot.path))))) : ''];
        }))) : el('p', { class: 'muted small' }, 'no attempt evaluated yet'));
  }

  let timer = null;
  let feed = null;
  let stopped = false;
  const refresh = async () => {
    try {
      // The files after the view, not beside it: a view that says the run ended then comes with
      // every file written before the end (read side by side, the files could predate it).
      const view = await runs.get(runId);
      const ws = await runs.files(runId).catch(() => null);
      state.view = view;
      if (ws) state.files = ws.files;
      error.hidden = true;
      if (!feed) {
        feed = openFeed(view.sessionId, {
          onEvents: (list) => { for (const { offset, event } of list) chat.apply(event, offset); },
        }, { device: deviceId() });
      }
      render();
      // One more read after the end (late writes), and only a read that got the files ends it.
      if (TERMINAL.has(view.phase) && state.final && ws) return;
      state.final = TERMINAL.has(view.phase);
    } catch (e) {
      error.hidden = false;
      error.textContent = `could not read run ${runId}: ${e.detail ?? e.message}`;
    }
    if (!stopped) timer = setTimeout(refresh, 1500);
  };
  refresh();
  window.tetherConsole = { get feed() { return feed; }, chat, state };
  return () => { stopped = true; clearTimeout(timer); feed?.close(); };
}
