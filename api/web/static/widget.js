/*! kbsvc suggestion widget: one <script src=".../widget.js" data-kbsvc-key="..."> on a ticket form.
 * Server text only ever reaches the page through textContent; failures keep the widget quiet. */
(function () {
  'use strict';

  var BANDS = { high: '高', medium: '中', low: '低' };
  var MAX_DEBOUNCE = 300;

  var CSS = [
    ':host{all:initial;display:block;font:14px/1.55 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;color:#1f2933}',
    ':host([hidden]){display:none}',
    '*{box-sizing:border-box}',
    '.kb{background:#fff;border:1px solid #d9e2ec;border-radius:10px;box-shadow:0 1px 2px rgba(16,42,67,.06);overflow:hidden}',
    '.head{display:flex;align-items:center;gap:8px;padding:12px 14px;border-bottom:1px solid #e4ebf1;background:#f7fafc}',
    '.logo{width:22px;height:22px;border-radius:6px;background:#0f6c81;color:#fff;font-size:12px;font-weight:700;display:grid;place-items:center;flex:none}',
    'h2{margin:0;font-size:14px;font-weight:600;color:#102a43;flex:1}',
    '.status{font-size:12px;color:#627d98}',
    '.hint,.empty{padding:14px;color:#627d98;margin:0}',
    '.empty strong{display:block;color:#334e68;font-weight:600;margin-bottom:2px}',
    'ol{list-style:none;margin:0;padding:0}',
    '.item{padding:12px 14px;border-bottom:1px solid #eef2f6;outline:none;position:relative}',
    '.item:last-child{border-bottom:0}',
    '.item:focus-visible,.item.active{background:#f0f7fa;box-shadow:inset 3px 0 0 #0f6c81}',
    '.row{display:flex;align-items:flex-start;gap:8px}',
    '.title{flex:1;font-weight:600;color:#102a43;margin:0;font-size:14px}',
    '.band{flex:none;font-size:12px;border-radius:999px;padding:0 8px;line-height:20px;font-weight:600}',
    '.band-high{background:#e3f5ec;color:#146c43}.band-medium{background:#fdf3dc;color:#8a5a00}.band-low{background:#eef2f6;color:#52606d}',
    '.meta{font-size:12px;color:#627d98;margin:2px 0 4px}',
    '.snippet{margin:0;color:#334e68;font-size:13px;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}',
    'mark{background:#fff1b8;color:inherit;padding:0 1px;border-radius:2px}',
    '.detail{margin:8px 0 0;padding:8px 10px;background:#f7fafc;border-radius:6px;font-size:13px;white-space:pre-line;color:#243b53}',
    '.detail b{display:block;font-size:12px;color:#486581;margin-bottom:2px}',
    '.actions{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;align-items:center}',
    'button,a.open{font:inherit;font-size:12px;line-height:1;padding:6px 10px;border-radius:6px;border:1px solid #bcccdc;background:#fff;color:#243b53;cursor:pointer;text-decoration:none}',
    'button:hover,a.open:hover{border-color:#0f6c81;color:#0f6c81}',
    'button:focus-visible,a.open:focus-visible{outline:2px solid #0f6c81;outline-offset:2px}',
    'button.cite{background:#0f6c81;border-color:#0f6c81;color:#fff}',
    'button.cite:hover{background:#0b5566;color:#fff}',
    'button[disabled]{cursor:default;opacity:.75}',
    'button[aria-pressed="true"]{background:#e3f5ec;border-color:#146c43;color:#146c43}',
    'button.cite[aria-pressed="true"]{background:#146c43;border-color:#146c43;color:#fff}',
    'a.open{border-color:transparent;color:#0f6c81;margin-left:auto}',
    '.note{font-size:12px;color:#146c43}',
    '.foot{padding:8px 14px;font-size:11px;color:#829ab1;border-top:1px solid #eef2f6;background:#fbfcfd}'
  ].join('\n');

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function decodeEntities(s) {
    var named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, function (m, ent) {
      if (ent.charAt(0) === '#') {
        var code = ent.charAt(1).toLowerCase() === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
      }
      return Object.prototype.hasOwnProperty.call(named, ent.toLowerCase()) ? named[ent.toLowerCase()] : m;
    });
  }

  // The snippet arrives HTML-escaped with literal <mark> tags: rebuild it as nodes, never as HTML.
  function renderSnippet(target, snippet) {
    var marked = false;
    String(snippet || '').split(/(<mark>|<\/mark>)/).forEach(function (piece) {
      if (piece === '<mark>') { marked = true; return; }
      if (piece === '</mark>') { marked = false; return; }
      if (!piece) return;
      var text = decodeEntities(piece);
      target.appendChild(marked ? el('mark', null, text) : document.createTextNode(text));
    });
  }

  function pick(selector) {
    try { return selector ? document.querySelector(selector) : null; } catch (e) { return null; }
  }

  function valueOf(selector) {
    var node = pick(selector);
    if (!node) return '';
    return String(node.value != null ? node.value : node.textContent || '').trim();
  }

  function Widget(script) {
    var d = script.dataset;
    this.key = d.kbsvcKey || '';
    this.api = (d.apiBase || new URL(script.src, location.href).origin).replace(/\/+$/, '');
    this.cfg = d;
    var wait = parseInt(d.debounce || '250', 10);
    this.wait = isNaN(wait) ? 250 : Math.max(0, Math.min(MAX_DEBOUNCE, wait));
    this.seq = 0;
    this.timer = null;
    this.controller = null;
    this.items = [];
  }

  Widget.prototype.mount = function () {
    var self = this;
    var container = pick(this.cfg.container);
    var anchor = pick(this.cfg.textField) || pick(this.cfg.titleField);
    if (!container && !anchor) return;
    this.host = document.createElement('div');
    this.host.setAttribute('data-kbsvc-widget', '');
    var root = this.host.attachShadow({ mode: 'open' });
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === 'function') {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el('style', null, CSS));
    }
    var panel = el('section', 'kb');
    panel.setAttribute('aria-label', '知识库建议');
    var head = el('div', 'head');
    var logo = el('span', 'logo', '知');
    logo.setAttribute('aria-hidden', 'true');
    head.appendChild(logo);
    head.appendChild(el('h2', null, '相似处理记录'));
    this.status = el('span', 'status');
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    head.appendChild(this.status);
    panel.appendChild(head);
    this.body = el('div', 'body');
    panel.appendChild(this.body);
    var foot = el('div', 'foot', '↑↓ 选择 · Enter 展开处理方法 · Esc 返回输入框');
    panel.appendChild(foot);
    root.appendChild(panel);
    this.root = root;
    this.showHint();
    if (container) {
      container.appendChild(this.host);
    } else {
      this.host.hidden = true; // inline mode stays out of the way until there is something to show
      anchor.insertAdjacentElement('afterend', this.host);
    }
    ['titleField', 'textField', 'systemField', 'departmentField'].forEach(function (name) {
      var node = pick(self.cfg[name]);
      if (!node) return;
      node.addEventListener('input', function () { self.schedule(); });
      node.addEventListener('change', function () { self.schedule(); });
    });
    panel.addEventListener('keydown', function (ev) { self.onKey(ev); });
    if ((valueOf(this.cfg.titleField) + valueOf(this.cfg.textField)).length) this.schedule();
  };

  Widget.prototype.showHint = function () {
    this.body.textContent = '';
    this.body.appendChild(el('p', 'hint', '填写标题或问题描述后，这里会实时列出知识库中相似的处理经验。'));
    this.items = [];
  };

  Widget.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.query().catch(function () { self.quiet(); }); }, this.wait);
  };

  Widget.prototype.request = function (path, body, signal) {
    return fetch(this.api + path, {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit', // the widget key is the credential; never the KB login cookie
      headers: { 'Content-Type': 'application/json', 'X-API-Key': this.key },
      body: JSON.stringify(body),
      signal: signal
    }).then(function (res) {
      if (!res.ok) throw new Error('kbsvc ' + res.status);
      return res.status === 204 ? {} : res.json();
    });
  };

  Widget.prototype.query = function () {
    var self = this;
    var title = valueOf(this.cfg.titleField);
    var text = valueOf(this.cfg.textField);
    var fields = [title, text, valueOf(this.cfg.systemField), valueOf(this.cfg.departmentField)];
    var key = JSON.stringify(fields);
    // 'change' fires on blur (e.g. clicking 引用): same fields, so keep the list and its state.
    if (key === this.lastKey) return Promise.resolve();
    this.lastKey = key;
    var seq = ++this.seq;
    if (this.controller) this.controller.abort();
    if ((title + text).replace(/\s+/g, '').length < 2) {
      this.controller = null;
      this.showHint();
      this.status.textContent = '';
      if (!pick(this.cfg.container)) this.host.hidden = true;
      return Promise.resolve();
    }
    this.controller = typeof AbortController === 'function' ? new AbortController() : null;
    var body = { title: title, text: text, k: 5 };
    var system = valueOf(this.cfg.systemField);
    var dept = valueOf(this.cfg.departmentField);
    if (system) body.system = system;
    if (dept) body.department = dept;
    this.status.textContent = '正在查找…';
    return this.request('/api/v1/suggest', body, this.controller && this.controller.signal)
      .then(function (res) {
        if (seq !== self.seq) return; // a newer request owns the panel
        self.render(res);
      }, function (err) {
        if (seq === self.seq) self.lastKey = null; // let the next keystroke retry
        if (seq !== self.seq || (err && err.name === 'AbortError')) return;
        self.quiet();
      });
  };

  Widget.prototype.quiet = function () {
    // Service down or refusing: say nothing, keep the host page exactly as it was.
    this.status.textContent = '';
    this.showHint();
    if (!pick(this.cfg.container)) this.host.hidden = true;
  };

  Widget.prototype.ticketId = function () {
    return valueOf(this.cfg.ticketIdField) || this.cfg.ticketId || '';
  };

  Widget.prototype.render = function (res) {
    var self = this;
    var data = (res && Array.isArray(res.data)) ? res.data.slice(0, 5) : [];
    this.body.textContent = '';
    this.items = [];
    this.host.hidden = false;
    if (!res || res.confident === false || !data.length) {
      var empty = el('div', 'empty');
      empty.appendChild(el('strong', null, '没有找到相似的处理记录'));
      empty.appendChild(document.createTextNode('可以补充报错提示或换一种说法再试。'));
      this.body.appendChild(empty);
      this.status.textContent = '没有相似记录';
      return;
    }
    var list = el('ol');
    list.setAttribute('aria-label', '相似处理记录');
    data.forEach(function (hit, i) { list.appendChild(self.renderItem(hit, i)); });
    this.body.appendChild(list);
    // A confident best match opens with its fix showing: that is what the engineer needs.
    if (data[0].confidence === 'high') this.toggle(this.items[0]);
    this.status.textContent = '找到 ' + data.length + ' 条';
  };

  Widget.prototype.renderItem = function (hit, index) {
    var self = this;
    var entry = hit.entry || {};
    var li = el('li', 'item');
    li.tabIndex = index === 0 ? 0 : -1;
    li.setAttribute('aria-label', String(entry.title || ''));
    var row = el('div', 'row');
    row.appendChild(el('h3', 'title', entry.title || ''));
    var bandKey = BANDS[hit.confidence] ? hit.confidence : 'low';
    var band = el('span', 'band band-' + bandKey, BANDS[bandKey]);
    band.setAttribute('title', '匹配度' + BANDS[bandKey]);
    band.setAttribute('aria-label', '匹配度' + BANDS[bandKey]);
    row.appendChild(band);
    li.appendChild(row);
    var meta = [entry.system, entry.department].filter(Boolean).join(' · ');
    if (meta) li.appendChild(el('div', 'meta', meta));
    var snip = el('p', 'snippet');
    renderSnippet(snip, hit.snippet || entry.symptom || '');
    li.appendChild(snip);
    var detail = el('div', 'detail');
    detail.hidden = true;
    if (entry.solution) {
      detail.appendChild(el('b', null, '处理方法'));
      detail.appendChild(document.createTextNode(String(entry.solution)));
    }
    li.appendChild(detail);
    li.appendChild(this.renderActions(entry, li));
    li.addEventListener('click', function (ev) {
      if (ev.target === li || ev.target.className === 'snippet' || ev.target.className === 'title') self.toggle(li);
    });
    this.items.push(li);
    return li;
  };

  Widget.prototype.renderActions = function (entry, li) {
    var self = this;
    var actions = el('div', 'actions');
    var note = el('span', 'note');
    note.setAttribute('aria-live', 'polite');
    var cite = el('button', 'cite', '引用');
    cite.type = 'button';
    cite.setAttribute('aria-pressed', 'false');
    cite.setAttribute('aria-label', '引用到本工单：' + (entry.title || ''));
    cite.addEventListener('click', function () {
      var ticket = self.ticketId();
      if (!ticket) { note.textContent = '未找到工单号'; return; }
      cite.disabled = true;
      self.request('/api/v1/entries/' + encodeURIComponent(entry.id) + '/citations',
        { source: self.cfg.source || 'widget', external_id: ticket })
        .then(function () {
          cite.textContent = '已引用';
          cite.setAttribute('aria-pressed', 'true');
          note.textContent = '已关联工单 ' + ticket;
        }, function () { cite.disabled = false; note.textContent = '引用未成功，请稍后再试'; });
    });
    actions.appendChild(cite);
    [['有用', true], ['没用', false]].forEach(function (spec) {
      var b = el('button', 'fb', spec[0]);
      b.type = 'button';
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', function () {
        var all = actions.querySelectorAll('button.fb');
        Array.prototype.forEach.call(all, function (x) { x.disabled = true; });
        var body = { helpful: spec[1], source: self.cfg.source || 'widget' };
        var ticket = self.ticketId();
        if (ticket) body.external_id = ticket;
        self.request('/api/v1/entries/' + encodeURIComponent(entry.id) + '/feedback', body)
          .then(function () {
            b.setAttribute('aria-pressed', 'true');
            note.textContent = '感谢反馈';
          }, function () {
            Array.prototype.forEach.call(all, function (x) { x.disabled = false; });
            note.textContent = '反馈未成功，请稍后再试';
          });
      });
      actions.appendChild(b);
    });
    var open = el('a', 'open', '查看全文');
    open.href = this.api + '/entries/' + encodeURIComponent(entry.id);
    open.target = '_blank';
    open.rel = 'noopener noreferrer';
    actions.appendChild(open);
    actions.appendChild(note);
    return actions;
  };

  Widget.prototype.toggle = function (li) {
    var detail = li.querySelector('.detail');
    if (detail && detail.childNodes.length) {
      detail.hidden = !detail.hidden;
      li.setAttribute('aria-expanded', String(!detail.hidden));
    }
  };

  Widget.prototype.focusItem = function (i) {
    if (!this.items.length) return;
    var n = (i + this.items.length) % this.items.length;
    this.items.forEach(function (li, j) { li.tabIndex = j === n ? 0 : -1; });
    this.items[n].focus();
  };

  Widget.prototype.onKey = function (ev) {
    var active = this.root.activeElement;
    var current = this.items.indexOf(active);
    var owner = current;
    if (owner < 0 && active) owner = this.items.indexOf(active.closest && active.closest('.item'));
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (owner < 0) return;
      ev.preventDefault();
      this.focusItem(owner + (ev.key === 'ArrowDown' ? 1 : -1));
    } else if (ev.key === 'Enter' && current >= 0) {
      ev.preventDefault();
      this.toggle(this.items[current]);
    } else if (ev.key === 'Escape') {
      var field = pick(this.cfg.textField) || pick(this.cfg.titleField);
      if (field) { ev.preventDefault(); field.focus(); }
    }
  };

  function start(script) {
    try {
      if (!script || script.__kbsvcWidget || !script.dataset.kbsvcKey || !window.fetch) return;
      script.__kbsvcWidget = true;
      var widget = new Widget(script);
      var go = function () { try { widget.mount(); } catch (e) { /* never break the host page */ } };
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go);
      else go();
    } catch (e) { /* never break the host page */ }
  }

  try {
    var current = document.currentScript;
    if (current && current.dataset && current.dataset.kbsvcKey) start(current);
    else Array.prototype.forEach.call(document.querySelectorAll('script[data-kbsvc-key]'), start);
  } catch (e) { /* never break the host page */ }
})();
