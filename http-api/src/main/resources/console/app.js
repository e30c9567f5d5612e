// The console's router: #/ (start page), #/session/<id> (session view), #/run/<id> (dashboard).

import { token } from './api.js';
import { mountHomeView } from './home-view.js';
import { mountRunView } from './run-view.js';
import { mountSessionView } from './session-view.js';

const app = document.getElementById('app');
let unmount = () => {};

function route() {
  unmount();
  const [, view, id] = location.hash.match(/^#\/(session|run)\/(.+)$/) ?? [];
  const name = id && decodeURIComponent(id);
  document.title = view ? `${view} ${name} · Tether` : 'Tether console';
  unmount = view === 'session' ? mountSessionView(app, name)
    : view === 'run' ? mountRunView(app, name)
      : mountHomeView(app);
}

document.getElementById('auth').textContent = token() ? 'token set' : '';
window.addEventListener('hashchange', route);
route();
