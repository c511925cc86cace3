/*! kbsvc suggestion widget: one <script src=".../widget.js" data-kbsvc-key="..."> on a ticket form.
 * Server text only ever reaches the page through textContent; failures keep the widget quiet. */
(function () {
  'use strict';

  var BANDS = { high: '高', medium: '中', low: '低' };
  var MAX_DEBOUNCE = 300;
  var REFINE_MS = 800; // pause after which a refinable answer is asked again, settled
  var WAIT_FOR_FIELDS_MS = 60000;
  var HINT = '填写标题或问题描述后，这里会实时列出知识库中相似的处理经验。';

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
    '.maybe summary{padding:6px 14px;color:#486581;cursor:pointer}',
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
    '.thumbs{display:flex;flex-wrap:wrap;gap:6px;margin-top:4px}.thumbs img{max-width:140px;max-height:100px;border:1px solid #d9e2ec;border-radius:4px;cursor:zoom-in}',
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
    '.fbbox{flex-basis:100%;display:flex;gap:6px;align-items:flex-start}.fbbox[hidden]{display:none}',
    '.fbtext{flex:1;min-width:0;font:inherit;font-size:12px;border:1px solid #bcccdc;border-radius:6px;padding:4px 6px;resize:vertical}',
    '.group{padding:8px 14px 4px;font-size:12px;font-weight:600;color:#146c43;background:#f3faf6;border-bottom:1px solid #e3f5ec}',
    '.item.cited{background:#fbfefc}',
    '.band-cited{background:#146c43;color:#fff}',
    'button.insert{border-color:#0f6c81;color:#0f6c81}',
    '.capture{display:flex;align-items:center;gap:8px;padding:10px 14px;border-top:1px solid #eef2f6}',
    'button.save{background:#fff;border-color:#146c43;color:#146c43;font-weight:600}',
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

  // Host-page fields: data-fields='{"ticket_id": "#no", ...}' and/or data-*-field attributes
  // (an attribute wins over the map). `insert` is where 插入处理方法 writes (default: solution).
  var FIELD_ATTRS = {
    ticket_id: 'ticketIdField', title: 'titleField', description: 'textField',
    cause: 'causeField', solution: 'solutionField', workaround: 'workaroundField',
    system: 'systemField', department: 'departmentField', insert: 'insertField'
  };
  var QUERY_FIELDS = ['title', 'description', 'system', 'department'];

  function fieldMap(d) {
    var map = {};
    var given = {};
    try { given = d.fields ? JSON.parse(d.fields) : {}; } catch (e) { given = {}; }
    if (!given || typeof given !== 'object') given = {};
    if (typeof given.text === 'string' && !given.description) given.description = given.text;
    Object.keys(FIELD_ATTRS).forEach(function (name) {
      var sel = d[FIELD_ATTRS[name]] || given[name];
      if (typeof sel === 'string' && sel) map[name] = sel;
    });
    if (!map.insert && map.solution) map.insert = map.solution;
    return map;
  }

  function pick(selector) {
    try { return selector ? document.querySelector(selector) : null; } catch (e) { return null; }
  }

  function valueOf(selector) {
    var node = pick(selector);
    if (!node) return '';
    return String(node.value != null ? node.value : node.textContent || '').trim();
  }

  function fixText(entry) {
    var text = String(entry.solution || '').trim();
    var workaround = String(entry.workaround || '').trim();
    if (workaround) text += (text ? '\n' : '') + '应急处理：' + workaround;
    return text;
  }

  // Plain text only, then the events a host framework listens for (it sees a typed value).
  function writeInto(node, text) {
    var editable = node.isContentEditable;
    var current = String(editable ? node.textContent : node.value || '');
    if (current.indexOf(text) >= 0) return;
    var next = current.trim() ? current.replace(/\s+$/, '') + '\n\n' + text : text;
    if (editable) node.textContent = next; else node.value = next;
    node.dispatchEvent(new Event('input', { bubbles: true }));
    node.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function Widget(script) {
    var d = script.dataset;
    this.key = d.kbsvcKey || '';
    this.api = (d.apiBase || new URL(script.src, location.href).origin).replace(/\/+$/, '');
    this.cfg = d;
    this.fields = fieldMap(d);
    this.source = d.source || 'widget';
    var wait = parseInt(d.debounce || '250', 10);
    this.wait = isNaN(wait) ? 250 : Math.max(0, Math.min(MAX_DEBOUNCE, wait));
    this.seq = 0;
    this.timer = null;
    this.controller = null;
    this.items = [];
    this.cited = [];   // entries this ticket cites, pinned on top as 已引用
    this.result = null; // the last suggest response
    this.composing = false;
  }

  Widget.prototype.value = function (name) { return valueOf(this.fields[name]); };

  Widget.prototype.mount = function () {
    var self = this;
    if (this.host) return true;
    var container = pick(this.cfg.container);
    var anchor = pick(this.fields.description) || pick(this.fields.title);
    if (!container && !anchor) return false;
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
    if (this.fields.solution) panel.appendChild(this.captureBar());
    panel.appendChild(el('div', 'foot', '↑↓ 选择 · Enter 展开处理方法 · Esc 返回输入框'));
    root.appendChild(panel);
    this.root = root;
    this.showHint();
    if (container) {
      container.appendChild(this.host);
    } else {
      // Inline mode stays out of the way until there is something to show (or to save).
      this.host.hidden = !this.fields.solution;
      anchor.insertAdjacentElement('afterend', this.host);
    }
    QUERY_FIELDS.forEach(function (name) {
      var node = pick(self.fields[name]);
      if (!node) return;
      // An input method's composition (pinyin → 汉字) is not text yet: never query it.
      node.addEventListener('compositionstart', function () {
        self.composing = true;
        clearTimeout(self.timer);
      });
      node.addEventListener('compositionend', function () {
        self.composing = false;
        self.schedule();
      });
      node.addEventListener('input', function (ev) {
        if (!ev.isComposing && !self.composing) self.schedule();
      });
      node.addEventListener('change', function () { self.schedule(); });
    });
    panel.addEventListener('keydown', function (ev) { self.onKey(ev); });
    this.loadCited();
    if ((this.value('title') + this.value('description')).length) this.schedule();
    return true;
  };

  Widget.prototype.captureBar = function () {
    var self = this;
    var bar = el('div', 'capture');
    var button = el('button', 'save', '存为知识');
    button.type = 'button';
    button.title = '把本工单的现象和处理方法存为知识库草稿，审核后发布';
    var note = el('span', 'note');
    note.setAttribute('aria-live', 'polite');
    button.addEventListener('click', function () { self.saveTicket(button, note); });
    bar.appendChild(button);
    bar.appendChild(note);
    return bar;
  };

  Widget.prototype.saveTicket = function (button, note) {
    var self = this;
    var ticket = this.ticketId();
    if (!ticket) { note.textContent = '未找到工单号'; return; }
    if (!this.value('solution')) { note.textContent = '请先填写处理方法'; return; }
    var body = { source: this.source, external_id: ticket };
    ['title', 'description', 'cause', 'solution', 'workaround', 'system', 'department']
      .forEach(function (name) { body[name] = self.value(name); });
    button.disabled = true;
    note.textContent = '正在保存…';
    this.request('/api/v1/widget/capture', body).then(function (res) {
      button.disabled = false;
      button.textContent = '更新知识草稿';
      note.textContent = {
        created: '已存为草稿，等待审核',
        updated: '已更新草稿，等待审核',
        unchanged: '草稿已是最新'
      }[res.outcome] || '这条知识已由他人编辑或已提交审核，未覆盖';
    }, function () {
      button.disabled = false;
      note.textContent = '保存未成功，请稍后再试';
    });
  };

  Widget.prototype.showHint = function () {
    this.result = null;
    this.draw();
  };

  Widget.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    if (this.composing) return;
    this.timer = setTimeout(function () {
      if (self.composing) return;
      self.query().catch(function () { self.quiet(); });
    }, this.wait);
  };

  Widget.prototype.request = function (path, body, signal) {
    var init = {
      method: body === undefined ? 'GET' : 'POST',
      mode: 'cors',
      credentials: 'omit', // the widget key is the credential; never the KB login cookie
      headers: { 'X-API-Key': this.key },
      signal: signal
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(this.api + path, init).then(function (res) {
      if (!res.ok) throw new Error('kbsvc ' + res.status);
      return res.status === 204 ? {} : res.json();
    });
  };

  Widget.prototype.loadCited = function () {
    var self = this;
    var ticket = this.ticketId();
    if (!ticket) return;
    var path = '/api/v1/tickets/' + encodeURIComponent(this.source) + '/' +
      encodeURIComponent(ticket) + '/citations';
    this.request(path).then(function (res) {
      var data = (res && Array.isArray(res.data)) ? res.data : [];
      self.cited = data.filter(function (c) { return !c.merged_into_id; }).map(function (c) {
        return {
          id: c.entry_id, title: c.title, solution: c.solution, workaround: c.workaround,
          system: c.system, department: c.department
        };
      });
      if (self.cited.length) self.host.hidden = false;
      self.draw();
    }, function () { /* pinning is a convenience: the list still works without it */ });
  };

  Widget.prototype.query = function () {
    var self = this;
    var title = this.value('title');
    var text = this.value('description');
    var fields = [title, text, this.value('system'), this.value('department')];
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
      this.autoHide();
      return Promise.resolve();
    }
    this.controller = typeof AbortController === 'function' ? new AbortController() : null;
    var body = { title: title, text: text, k: 5 };
    if (fields[2]) body.system = fields[2];
    if (fields[3]) body.department = fields[3];
    this.status.textContent = '正在查找…';
    return this.request('/api/v1/suggest', body, this.controller && this.controller.signal)
      .then(function (res) {
        if (seq !== self.seq) return; // a newer request owns the panel
        self.render(res);
        if (res && res.refinable) self.refine(seq, body);
      }, function (err) {
        if (seq === self.seq) self.lastKey = null; // let the next keystroke retry
        if (seq !== self.seq || (err && err.name === 'AbortError')) return;
        self.quiet();
      });
  };

  // The writer paused: the slower dense channel may refine the same query (settled).
  Widget.prototype.refine = function (seq, body) {
    var self = this;
    clearTimeout(this.refineTimer);
    this.refineTimer = setTimeout(function () {
      if (seq !== self.seq) return;
      body.settled = true;
      self.request('/api/v1/suggest', body, self.controller && self.controller.signal)
        .then(function (res) { if (seq === self.seq) self.render(res); }, function () {});
    }, REFINE_MS);
  };

  Widget.prototype.autoHide = function () {
    if (!pick(this.cfg.container) && !this.cited.length && !this.fields.solution) {
      this.host.hidden = true;
    }
  };

  Widget.prototype.quiet = function () {
    // Service down or refusing: say nothing, keep the host page exactly as it was.
    this.status.textContent = '';
    this.showHint();
    this.autoHide();
  };

  Widget.prototype.ticketId = function () {
    return this.value('ticket_id') || this.cfg.ticketId || '';
  };

  Widget.prototype.render = function (res) {
    this.result = res || { data: [] };
    this.host.hidden = false;
    this.draw();
  };

  // Pinned citations first, then this query's results without them.
  Widget.prototype.draw = function () {
    var self = this;
    var res = this.result;
    var pinned = {};
    this.cited.forEach(function (c) { pinned[c.id] = true; });
    var all = (res && Array.isArray(res.data)) ? res.data : [];
    all = all.filter(function (h) { return h.entry && !pinned[h.entry.id]; });
    // Not confident: never shout a near miss, never hide a likely fix (folded under 可能相关).
    var hits = res && res.confident === false ? [] : all.slice(0, 5);
    var maybe = hits.length ? [] : all.slice(0, 3);
    this.body.textContent = '';
    this.items = [];
    if (this.cited.length) {
      var cited = el('ol', 'pinned');
      cited.setAttribute('aria-label', '已引用');
      this.cited.forEach(function (entry, i) {
        cited.appendChild(self.renderItem({ entry: entry, pinned: true }, i));
      });
      this.body.appendChild(el('div', 'group', '已引用'));
      this.body.appendChild(cited);
    }
    if (!res) {
      this.body.appendChild(el('p', 'hint', HINT));
      return;
    }
    if (!hits.length) {
      var empty = el('div', 'empty');
      empty.appendChild(el('strong', null, maybe.length ? '没有把握的匹配' : '没有找到相似的处理记录'));
      empty.appendChild(document.createTextNode('可以补充报错提示或换一种说法再试。'));
      this.body.appendChild(empty);
      this.status.textContent = maybe.length ? '没有把握的匹配' : '没有相似记录';
      if (maybe.length) {
        var fold = el('details', 'maybe');
        fold.appendChild(el('summary', null, '可能相关（' + maybe.length + ' 条）'));
        var few = el('ol');
        few.setAttribute('aria-label', '可能相关');
        maybe.forEach(function (hit, i) { few.appendChild(self.renderItem(hit, self.items.length + i)); });
        fold.appendChild(few);
        this.body.appendChild(fold);
      }
      return;
    }
    var list = el('ol');
    list.setAttribute('aria-label', '相似处理记录');
    var offset = this.items.length;
    hits.forEach(function (hit, i) { list.appendChild(self.renderItem(hit, offset + i)); });
    this.body.appendChild(list);
    // A confident best match opens with its fix showing: that is what the engineer needs.
    if (hits[0].confidence === 'high') this.toggle(this.items[offset]);
    this.status.textContent = '找到 ' + hits.length + ' 条';
  };

  Widget.prototype.renderItem = function (hit, index) {
    var self = this;
    var entry = hit.entry || {};
    var li = el('li', hit.pinned ? 'item cited' : 'item');
    li.tabIndex = index === 0 ? 0 : -1;
    li.setAttribute('aria-label', String(entry.title || ''));
    var row = el('div', 'row');
    row.appendChild(el('h3', 'title', entry.title || ''));
    if (hit.pinned) {
      row.appendChild(el('span', 'band band-cited', '已引用'));
    } else {
      var bandKey = BANDS[hit.confidence] ? hit.confidence : 'low';
      var band = el('span', 'band band-' + bandKey, BANDS[bandKey]);
      band.setAttribute('title', '匹配度' + BANDS[bandKey]);
      band.setAttribute('aria-label', '匹配度' + BANDS[bandKey]);
      row.appendChild(band);
    }
    li.appendChild(row);
    var meta = [entry.system, entry.department].filter(Boolean).join(' · ');
    if (meta) li.appendChild(el('div', 'meta', meta));
    if (!hit.pinned) {
      var snip = el('p', 'snippet');
      renderSnippet(snip, hit.snippet || entry.symptom || '');
      li.appendChild(snip);
    }
    var detail = el('div', 'detail');
    detail.hidden = true;
    detail.setAttribute('data-entry-id', String(entry.id));
    if (entry.solution) {
      detail.appendChild(el('b', null, '处理方法'));
      detail.appendChild(document.createTextNode(String(entry.solution)));
    }
    if (entry.workaround) {
      detail.appendChild(el('b', null, '应急处理'));
      detail.appendChild(document.createTextNode(String(entry.workaround)));
    }
    li.appendChild(detail);
    li.appendChild(this.renderActions(entry, hit.pinned));
    li.addEventListener('click', function (ev) {
      if (ev.target === li || ev.target.className === 'snippet' || ev.target.className === 'title') self.toggle(li);
    });
    this.items.push(li);
    return li;
  };

  // Record the citation, then pin the entry (the server's list is the truth on reload).
  Widget.prototype.cite = function (entry) {
    var self = this;
    var ticket = this.ticketId();
    if (!ticket) return Promise.reject(new Error('no ticket'));
    return this.request('/api/v1/entries/' + encodeURIComponent(entry.id) + '/citations',
      { source: this.source, external_id: ticket })
      .then(function (res) {
        var id = (res && res.entry_id) || entry.id; // a merged entry's citation goes to its survivor
        if (!self.cited.some(function (c) { return c.id === id; })) {
          self.cited.push({
            id: id, title: entry.title, solution: entry.solution, workaround: entry.workaround,
            system: entry.system, department: entry.department
          });
        }
        self.draw();
      });
  };

  Widget.prototype.renderActions = function (entry, pinned) {
    var self = this;
    var actions = el('div', 'actions');
    var note = el('span', 'note');
    note.setAttribute('aria-live', 'polite');
    var target = pick(this.fields.insert);
    if (target && fixText(entry)) {
      var insert = el('button', 'insert', '插入处理方法');
      insert.type = 'button';
      insert.setAttribute('aria-label', '插入处理方法：' + (entry.title || ''));
      insert.addEventListener('click', function () {
        writeInto(pick(self.fields.insert) || target, fixText(entry));
        if (pinned) { note.textContent = '已插入'; return; }
        if (!self.ticketId()) { note.textContent = '已插入（未找到工单号，未记录引用）'; return; }
        self.cite(entry).catch(function () { note.textContent = '已插入，引用未记录'; });
      });
      actions.appendChild(insert);
    }
    var cite = el('button', 'cite', pinned ? '已引用' : '引用');
    cite.type = 'button';
    cite.setAttribute('aria-pressed', pinned ? 'true' : 'false');
    cite.setAttribute('aria-label', (pinned ? '已引用到本工单：' : '引用到本工单：') + (entry.title || ''));
    cite.disabled = !!pinned;
    cite.addEventListener('click', function () {
      if (!self.ticketId()) { note.textContent = '未找到工单号'; return; }
      cite.disabled = true;
      self.cite(entry).catch(function () {
        cite.disabled = false;
        note.textContent = '引用未成功，请稍后再试';
      });
    });
    actions.appendChild(cite);
    // 没用 opens an optional comment: with one, a reviewer gets a flag to look at the entry.
    var box = el('div', 'fbbox');
    box.hidden = true;
    var area = el('textarea', 'fbtext');
    area.rows = 2;
    area.maxLength = 2000;
    area.placeholder = '哪里不对？（选填，填写后会提醒审核人复核）';
    area.setAttribute('aria-label', '没用的原因（选填）');
    var send = el('button', 'fbsend', '提交反馈');
    send.type = 'button';
    box.appendChild(area);
    box.appendChild(send);
    var vote = function (helpful, comment, pressed) {
      var all = actions.querySelectorAll('button.fb, button.fbsend');
      Array.prototype.forEach.call(all, function (x) { x.disabled = true; });
      var body = { helpful: helpful, source: self.source };
      if (comment) body.comment = comment;
      var ticket = self.ticketId();
      if (ticket) body.external_id = ticket;
      self.request('/api/v1/entries/' + encodeURIComponent(entry.id) + '/feedback', body)
        .then(function (res) {
          pressed.setAttribute('aria-pressed', 'true');
          box.hidden = true;
          note.textContent = res && res.flag_id ? '感谢反馈，已提醒审核人复核' : '感谢反馈';
        }, function () {
          Array.prototype.forEach.call(all, function (x) { x.disabled = false; });
          note.textContent = '反馈未成功，请稍后再试';
        });
    };
    var buttons = [['有用', true], ['没用', false]].map(function (spec) {
      var b = el('button', 'fb', spec[0]);
      b.type = 'button';
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', function () {
        if (spec[1]) { vote(true, '', b); return; }
        box.hidden = false;
        b.setAttribute('aria-expanded', 'true');
        area.focus();
      });
      actions.appendChild(b);
      return b;
    });
    send.addEventListener('click', function () { vote(false, area.value.trim(), buttons[1]); });
    var open = el('a', 'open', '查看全文');
    open.href = this.api + '/entries/' + encodeURIComponent(entry.id);
    open.target = '_blank';
    open.rel = 'noopener noreferrer';
    actions.appendChild(open);
    actions.appendChild(note);
    actions.appendChild(box);
    return actions;
  };

  Widget.prototype.toggle = function (li) {
    var detail = li && li.querySelector('.detail');
    if (detail && detail.childNodes.length) {
      detail.hidden = !detail.hidden;
      li.setAttribute('aria-expanded', String(!detail.hidden));
      if (!detail.hidden) this.loadThumbs(detail);
    }
  };

  // Screenshots of the entry, fetched with the widget key (an <img src> could not send it),
  // so the key sees exactly what the API lets it see.
  Widget.prototype.loadThumbs = function (detail) {
    if (detail.getAttribute('data-thumbs')) return;
    detail.setAttribute('data-thumbs', 'loading');
    var self = this;
    var id = detail.getAttribute('data-entry-id');
    this.request('/api/v1/entries/' + encodeURIComponent(id) + '/attachments').then(function (res) {
      var images = ((res && res.data) || []).filter(function (a) { return a.thumb_url; });
      if (!images.length) return;
      detail.appendChild(el('b', null, '截图'));
      var box = el('div', 'thumbs');
      detail.appendChild(box);
      images.forEach(function (a) {
        fetch(self.api + a.thumb_url, {
          mode: 'cors', credentials: 'omit', headers: { 'X-API-Key': self.key }
        }).then(function (r) {
          if (!r.ok) throw new Error('kbsvc ' + r.status);
          return r.blob();
        }).then(function (blob) {
          var img = el('img');
          img.src = URL.createObjectURL(blob);
          img.alt = a.filename;
          img.title = a.ocr_text || a.filename;
          box.appendChild(img);
        }).catch(function () { /* a missing thumbnail leaves the text as it is */ });
      });
    }).catch(function () { detail.removeAttribute('data-thumbs'); });
  };

  Widget.prototype.focusItem = function (i) {
    if (!this.items.length) return;
    var n = (i + this.items.length) % this.items.length;
    this.items.forEach(function (li, j) { li.tabIndex = j === n ? 0 : -1; });
    this.items[n].focus();
  };

  Widget.prototype.onKey = function (ev) {
    var active = this.root.activeElement;
    if (active && active.tagName === 'TEXTAREA') return;  // typing a feedback comment
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
      var field = pick(this.fields.description) || pick(this.fields.title);
      if (field) { ev.preventDefault(); field.focus(); }
    }
  };

  function start(script) {
    try {
      if (!script || script.__kbsvcWidget || !script.dataset.kbsvcKey || !window.fetch) return;
      script.__kbsvcWidget = true;
      var widget = new Widget(script);
      var tryMount = function () {
        try { return widget.mount(); } catch (e) { return true; /* never break the host page */ }
      };
      // Vendor pages often render the ticket form after load: wait for its fields a while.
      var go = function () {
        if (tryMount() || typeof MutationObserver !== 'function') return;
        var pending = false;
        var observer = new MutationObserver(function () {
          if (pending) return;
          pending = true;
          setTimeout(function () {
            pending = false;
            if (tryMount()) observer.disconnect();
          }, 100);
        });
        observer.observe(document.documentElement, { childList: true, subtree: true });
        setTimeout(function () { observer.disconnect(); }, WAIT_FOR_FIELDS_MS);
      };
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
