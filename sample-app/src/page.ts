import { SessionView } from './view';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * The session page: server-rendered (every value escaped), then kept current
 * by a small script that calls the JSON API. The script runs under a CSP nonce.
 */
export function renderPage(view: SessionView, nonce: string): string {
  const e = escapeHtml;
  const items = view.cart.map((item, i) =>
    `<li data-index="${i}"><span>${e(item)}</span> <button type="button" class="remove" data-index="${i}">remove</button></li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Session tier: ${e(view.color)} ${e(view.version)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
  .badge { display: inline-block; padding: .2rem .6rem; border-radius: .4rem; color: #fff; background: ${view.color === 'green' ? '#2e7d32' : '#1565c0'}; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
  dt { font-weight: 600; }
  #error { color: #b00020; min-height: 1.2em; }
</style>
</head>
<body>
<h1><span class="badge" id="color">${e(view.color)}</span> <span id="version">${e(view.version)}</span></h1>
<dl>
  <dt>Strategy</dt><dd id="strategy">${e(view.strategy)}</dd>
  <dt>Instance</dt><dd id="instance">${e(view.instance)}</dd>
  <dt>Availability Zone</dt><dd id="az">${e(view.az)}</dd>
  <dt>Session age</dt><dd><span id="age">${view.sessionAgeSeconds}</span> s</dd>
  <dt>Visits</dt><dd id="visits">${view.visits}</dd>
  <dt>Counter</dt><dd><span id="counter">${view.counter}</span> <button type="button" id="increment">+1</button></dd>
  <dt>User</dt><dd><span id="user">${view.user === null ? 'not logged in' : e(view.user)}</span></dd>
</dl>
<form id="login-form"><input id="user-input" maxlength="64" placeholder="your name" aria-label="name"> <button id="login">Log in</button> <button type="button" id="logout">Log out</button></form>
<h2>Cart</h2>
<ul id="cart">${items}</ul>
<form id="cart-form"><input id="item-input" maxlength="100" placeholder="an item" aria-label="item"> <button id="add-item">Add</button></form>
<p id="error" role="alert"></p>
<script nonce="${nonce}">
(() => {
  const $ = (id) => document.getElementById(id);
  const render = (v) => {
    for (const k of ['color', 'version', 'strategy', 'instance', 'az', 'visits', 'counter']) $(k).textContent = v[k];
    $('age').textContent = v.sessionAgeSeconds;
    $('user').textContent = v.user === null ? 'not logged in' : v.user;
    const cart = $('cart');
    cart.replaceChildren(...v.cart.map((item, i) => {
      const li = document.createElement('li');
      li.dataset.index = i;
      const span = document.createElement('span');
      span.textContent = item;
      const button = document.createElement('button');
      button.type = 'button'; button.className = 'remove'; button.dataset.index = i; button.textContent = 'remove';
      li.append(span, ' ', button);
      return li;
    }));
  };
  const call = async (method, path, body) => {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) { $('error').textContent = json.error; return; }
    $('error').textContent = '';
    render(json);
  };
  $('increment').onclick = () => call('POST', '/api/counter');
  $('cart-form').onsubmit = (e) => { e.preventDefault(); const item = $('item-input').value.trim(); if (item) call('POST', '/api/cart', { item }).then(() => { $('item-input').value = ''; }); };
  $('cart').onclick = (e) => { const i = e.target.dataset && e.target.dataset.index; if (e.target.className === 'remove') call('DELETE', '/api/cart/' + i); };
  $('login-form').onsubmit = (e) => { e.preventDefault(); call('POST', '/api/login', { user: $('user-input').value.trim() }); };
  $('logout').onclick = () => call('POST', '/api/logout');
})();
</script>
</body>
</html>
`;
}
