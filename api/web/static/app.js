/* Web UI behaviour: small fetches to the JSON API with the session cookie and CSRF header. */
(function () {
  'use strict';

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function csrf() {
    var token = csrfMeta ? csrfMeta.getAttribute('content') : '';
    if (token) return token;
    var m = document.cookie.match(/(?:^|;\s*)kbsvc_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : '';
  }

  function api(method, path, body) {
    var headers = { 'Accept': 'application/json', 'X-CSRF-Token': csrf() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method: method, credentials: 'same-origin', headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var err = new Error((data && data.message) || ('请求失败（' + res.status + '）'));
          err.status = res.status;
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  // The API's `message` may be English; people read Chinese (the code decides the wording).
  var MESSAGES = {
    401: '登录已过期，请重新登录。',
    403: '当前账号没有执行此操作的权限。',
    404: '要操作的记录不存在或已被删除。',
    413: '内容太长，请精简后再提交。',
    429: '操作太频繁，请稍后再试。'
  };

  function friendly(err) {
    var data = err && err.data;
    var message = data && data.message ? String(data.message) : '';
    if (/[\u4e00-\u9fff]/.test(message)) return message;
    if (err && err.status === 409) return '这条记录已被别人修改或状态已变化，请刷新页面后再试。';
    if (err && err.status === 422) return '填写的内容有误，请检查后再提交。';
    if (err && MESSAGES[err.status]) return MESSAGES[err.status];
    if (err && err.status >= 500) return '服务器出错了，请稍后再试或联系管理员。';
    return '网络异常，请检查网络后重试。';
  }

  var toastTimer = null;
  function toast(message, kind) {
    var box = document.getElementById('toast');
    if (!box) return;
    box.textContent = message;
    box.className = 'toast' + (kind ? ' toast-' + kind : '');
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function showError(node, message) {
    if (!node) return;
    node.textContent = message;
    node.hidden = false;
  }

  function safeNext(next) {
    return next && next.charAt(0) === '/' && next.charAt(1) !== '/' && next.indexOf('\\') < 0 ? next : '/';
  }

  function onLogin(form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var error = document.getElementById('login-error');
      error.hidden = true;
      var username = form.elements.username.value.trim();
      var password = form.elements.password.value;
      if (!username || !password) { showError(error, '请输入用户名和密码'); return; }
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      api('POST', '/api/v1/auth/login', { username: username, password: password })
        .then(function () { location.assign(safeNext(form.getAttribute('data-next'))); })
        .catch(function (err) {
          button.disabled = false;
          // Directory sign-in explains itself in Chinese (disabled, no group, server down).
          var said = err.data && err.data.message ? String(err.data.message) : '';
          if (/[\u4e00-\u9fff]/.test(said)) showError(error, said);
          else showError(error, err.status === 401 || err.status === 403 ? '用户名或密码不正确' : friendly(err));
        });
    });
  }

  function onLogout(button) {
    button.addEventListener('click', function () {
      api('POST', '/api/v1/auth/logout').catch(function () { return null; })
        .then(function () { location.assign('/login'); });
    });
  }

  function onFeedback(box) {
    var id = box.getAttribute('data-entry-id');
    var msg = box.querySelector('.feedback-msg');
    var buttons = box.querySelectorAll('button[data-feedback]');
    var commentBox = box.querySelector('.feedback-comment');
    var sendButton = box.querySelector('[data-feedback-send]');

    function send(helpful, comment, pressed) {
      var all = box.querySelectorAll('button');
      Array.prototype.forEach.call(all, function (b) { b.disabled = true; });
      var body = { helpful: helpful, source: 'web' };
      if (comment) body.comment = comment;
      api('POST', '/api/v1/entries/' + id + '/feedback', body)
        .then(function (res) {
          pressed.setAttribute('aria-pressed', 'true');
          if (commentBox) commentBox.hidden = true;
          msg.textContent = helpful ? '感谢反馈，这会帮助更多同事找到它。'
            : (res && res.flag_id ? '感谢反馈，已提醒审核人复核这条经验。' : '感谢反馈。');
        })
        .catch(function (err) {
          Array.prototype.forEach.call(all, function (b) { b.disabled = false; });
          msg.textContent = err.status === 401 ? '请先登录后再反馈' : '反馈未成功：' + friendly(err);
        });
    }

    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener('click', function () {
        var helpful = button.getAttribute('data-feedback') === '1';
        if (helpful || !commentBox) { send(helpful, '', button); return; }
        commentBox.hidden = false;
        button.setAttribute('aria-expanded', 'true');
        commentBox.querySelector('textarea').focus();
      });
    });
    if (sendButton) {
      sendButton.addEventListener('click', function () {
        var comment = commentBox.querySelector('textarea').value.trim();
        send(false, comment, box.querySelector('button[data-feedback="0"]'));
      });
    }
  }

  function onReview(item) {
    var id = item.getAttribute('data-entry-id');
    var box = item.querySelector('.reject-box');
    var opener = item.querySelector('[data-review="reject"]');
    var actions = item.querySelector('.review-actions');

    function done(label) {
      toast(label, 'ok');
      item.classList.add('review-done');
      box.hidden = true;
      actions.textContent = label;
    }

    function send(button, path, body, label) {
      button.disabled = true;
      api('POST', '/api/v1/entries/' + id + '/' + path, body)
        .then(function () { done(label); })
        .catch(function (err) { button.disabled = false; toast('操作未成功：' + friendly(err), 'error'); });
    }

    item.addEventListener('click', function (ev) {
      var button = ev.target.closest ? ev.target.closest('button[data-review]') : null;
      if (!button) return;
      var action = button.getAttribute('data-review');
      if (action === 'publish') send(button, 'publish', undefined, '已发布');
      if (action === 'reject') {
        box.hidden = false;
        opener.setAttribute('aria-expanded', 'true');
        box.querySelector('textarea').focus();
      }
      if (action === 'cancel') {
        box.hidden = true;
        opener.setAttribute('aria-expanded', 'false');
        opener.focus();
      }
      if (action === 'confirm-reject') {
        var comment = box.querySelector('textarea').value.trim();
        if (!comment) { toast('请填写退回原因', 'error'); box.querySelector('textarea').focus(); return; }
        send(button, 'reject', { comment: comment }, '已退回');
      }
    });
  }

  function splitTags(value) {
    return value.split(/[,，、;；]+/).map(function (t) { return t.trim(); }).filter(Boolean);
  }

  var FORM_FIELDS = ['title', 'symptom', 'cause', 'solution', 'workaround', 'system', 'module',
    'department', 'category', 'tags', 'note'];

  // What was typed survives an expired session: kept here while the person signs in again.
  function draftKey() { return 'kbsvc-unsaved:' + location.pathname; }

  function keepTyped(form) {
    var values = {};
    FORM_FIELDS.forEach(function (name) { if (form.elements[name]) values[name] = form.elements[name].value; });
    try { sessionStorage.setItem(draftKey(), JSON.stringify(values)); } catch (e) { /* private mode */ }
  }

  function restoreTyped(form) {
    var raw = null;
    try { raw = sessionStorage.getItem(draftKey()); } catch (e) { raw = null; }
    if (!raw) return;
    try { sessionStorage.removeItem(draftKey()); } catch (e) { /* ignore */ }
    var values = JSON.parse(raw);
    FORM_FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (!field || values[name] === undefined) return;
      if (field.tagName === 'SELECT' && !Array.prototype.some.call(field.options, function (o) { return o.value === values[name]; })) {
        var opt = document.createElement('option');
        opt.value = values[name]; opt.textContent = values[name];
        field.appendChild(opt);
      }
      field.value = values[name];
    });
    toast('已恢复登录前未保存的内容，请确认后再保存。', 'ok');
  }

  function toLogin(form) {
    if (form) keepTyped(form);
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  function onEntryForm(form) {
    var mode = form.getAttribute('data-mode');
    var id = form.getAttribute('data-entry-id');
    var error = form.querySelector('.form-error');
    var buttons = form.querySelectorAll('button');
    restoreTyped(form);

    function busy(on) { Array.prototype.forEach.call(buttons, function (b) { b.disabled = on; }); }

    function fail(err) {
      busy(false);
      if (err.status === 401) { toLogin(form); return; }
      showError(error, '保存未成功：' + friendly(err));
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      error.hidden = true;
      var then = (ev.submitter && ev.submitter.getAttribute('data-then')) || 'save';
      var body = {};
      FORM_FIELDS.forEach(function (name) {
        if (form.elements[name]) body[name] = form.elements[name].value.trim();
      });
      body.tags = splitTags(body.tags || '');
      if (!body.note) delete body.note;
      if (!body.title) { showError(error, '请填写标题'); form.elements.title.focus(); return; }
      busy(true);
      var saved;
      if (mode === 'capture') {
        delete body.note;
        saved = api('POST', '/api/v1/tickets/' + form.getAttribute('data-ticket-id') + '/capture', body);
      } else {
        body.base_version = parseInt(form.getAttribute('data-version'), 10);
        if (then === 'publish') body.publish = true;
        saved = api('PATCH', '/api/v1/entries/' + id, body);
      }
      saved.then(function (entry) {
        id = entry.id;
        // Screenshots chosen on the capture form upload once the entry exists.
        return window.kbsvcAttachments ? window.kbsvcAttachments.flush(id).then(function () { return entry; }) : entry;
      }).then(function (entry) {
        if (then !== 'submit') return entry;
        return api('POST', '/api/v1/entries/' + id + '/submit').then(function () { return entry; });
      }).then(function () {
        if (then === 'publish') { location.assign('/entries/' + id); return; }
        location.assign('/my?saved=' + id);
      }).catch(fail);
    });

    var discard = form.querySelector('[data-discard-revision]');
    if (discard) discard.addEventListener('click', function () {
      if (!window.confirm('放弃后这份修改将不再保留，已发布的版本不受影响。确定放弃吗？')) return;
      busy(true);
      api('DELETE', '/api/v1/entries/' + id + '/revision')
        .then(function () { location.assign('/entries/' + id); }).catch(fail);
    });
    var del = form.querySelector('[data-delete-draft]');
    if (del) del.addEventListener('click', function () {
      if (!window.confirm('删除后无法恢复。确定删除这份草稿吗？')) return;
      busy(true);
      api('DELETE', '/api/v1/entries/' + id)
        .then(function () { location.assign('/my'); }).catch(fail);
    });
  }

  var ACTION_DONE = { 'submit': '已提交审核', 'archive': '已归档', 'restore-draft': '已重新打开为草稿' };

  function onEntryAction(button) {
    button.addEventListener('click', function () {
      var holder = button.closest('[data-entry-id]');
      var id = button.getAttribute('data-entry-id') || holder.getAttribute('data-entry-id');
      var action = button.getAttribute('data-entry-action');
      var ask = button.getAttribute('data-confirm');
      if (ask && !window.confirm(ask)) return;
      button.disabled = true;
      api('POST', '/api/v1/entries/' + id + '/' + action)
        .then(function () { toast(ACTION_DONE[action] || '已完成', 'ok'); setTimeout(function () { location.reload(); }, 600); })
        .catch(function (err) {
          button.disabled = false;
          if (err.status === 401) { toLogin(null); return; }
          toast('操作未成功：' + friendly(err), 'error');
        });
    });
  }

  function onRestoreVersion(button) {
    button.addEventListener('click', function () {
      var id = button.getAttribute('data-entry-id');
      var version = button.getAttribute('data-restore-version');
      if (!window.confirm('恢复第 ' + version + ' 版的内容？已发布的条目会先作为待审核的修改，审核通过后才生效。')) return;
      button.disabled = true;
      api('POST', '/api/v1/entries/' + id + '/versions/' + version + '/restore',
        { base_version: parseInt(button.getAttribute('data-base'), 10) })
        .then(function () { toast('已恢复', 'ok'); setTimeout(function () { location.reload(); }, 600); })
        .catch(function (err) { button.disabled = false; toast('恢复未成功：' + friendly(err), 'error'); });
    });
  }

  function onMerge(form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var into = form.getAttribute('data-merge-into');
      var from = parseInt(form.elements.from_id.value, 10);
      if (!from) { toast('请填写重复条目的编号', 'error'); return; }
      if (!window.confirm('把条目 #' + from + ' 合并到本条？被合并的条目会归档并跳转到这里。')) return;
      api('POST', '/api/v1/entries/' + into + '/merge', { from_id: from })
        .then(function () { toast('已合并', 'ok'); setTimeout(function () { location.reload(); }, 600); })
        .catch(function (err) { toast('合并未成功：' + friendly(err), 'error'); });
    });
  }

  function onResolveFlag(button) {
    button.addEventListener('click', function () {
      button.disabled = true;
      api('POST', '/api/v1/review-flags/' + button.getAttribute('data-resolve-flag') + '/resolve', { resolution: '已处理' })
        .then(function () {
          var item = button.closest('.flag-item');
          if (item) item.classList.add('review-done');
          button.textContent = '已处理';
        })
        .catch(function (err) { button.disabled = false; toast('操作未成功：' + friendly(err), 'error'); });
    });
  }


  function formBody(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === 'submit' || el.type === 'button') return;
      // data-multi: checkboxes sharing a name form a list; data-bool: one checkbox is true/false.
      if (el.hasAttribute('data-multi')) {
        body[el.name] = (body[el.name] || []).concat(el.checked ? [el.value] : []);
        return;
      }
      if (el.hasAttribute('data-bool')) { body[el.name] = el.checked; return; }
      // data-number: an empty box is "not set" (null), else the number typed.
      if (el.hasAttribute('data-number')) { body[el.name] = el.value.trim() ? Number(el.value) : null; return; }
      body[el.name] = el.hasAttribute('data-list') ? splitTags(el.value) : el.value.trim();
    });
    return body;
  }

  function showSecret(label, value) {
    var box = document.querySelector('.secret-box');
    if (!box) { toast(label + value, 'ok'); return; }
    box.querySelector('.secret-label').textContent = label;
    box.querySelector('.secret-value').textContent = value;
    box.hidden = false;
    box.scrollIntoView({ block: 'center' });
  }

  function apiDone(node, res) {
    var secret = node.getAttribute('data-secret');
    if (secret && res && res[secret]) {
      showSecret(node.getAttribute('data-secret-label') || '', res[secret]);
      return;
    }
    toast(node.getAttribute('data-done') || '已保存', 'ok');
    setTimeout(function () { location.reload(); }, 700);
  }

  function onApiForm(form) {
    var spec = form.getAttribute('data-api-form').split(' ');
    var error = form.querySelector('.form-error');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (error) error.hidden = true;
      var ask = form.getAttribute('data-confirm');
      if (ask && !window.confirm(ask)) return;
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      api(spec[0], spec[1], formBody(form))
        .then(function (res) { if (button) button.disabled = false; apiDone(form, res); })
        .catch(function (err) {
          if (button) button.disabled = false;
          if (err.status === 401) { toLogin(null); return; }
          if (error) showError(error, friendly(err)); else toast('操作未成功：' + friendly(err), 'error');
        });
    });
    Array.prototype.forEach.call(form.querySelectorAll('[data-autosubmit]'), function (el) {
      el.addEventListener('change', function () { form.requestSubmit(); });
    });
  }

  function onApiCall(button) {
    var spec = button.getAttribute('data-api-call').split(' ');
    button.addEventListener('click', function () {
      var ask = button.getAttribute('data-confirm');
      if (ask && !window.confirm(ask)) return;
      var raw = button.getAttribute('data-body');
      button.disabled = true;
      api(spec[0], spec[1], raw ? JSON.parse(raw) : undefined)
        .then(function (res) { button.disabled = false; apiDone(button, res); })
        .catch(function (err) { button.disabled = false; toast('操作未成功：' + friendly(err), 'error'); });
    });
  }

  function onNavToggle(button) {
    var nav = document.getElementById(button.getAttribute('aria-controls'));
    button.addEventListener('click', function () {
      var open = button.getAttribute('aria-expanded') === 'true';
      button.setAttribute('aria-expanded', String(!open));
      nav.classList.toggle('open', !open);
    });
  }

  function onHandbookForm(form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var error = form.querySelector('.form-error');
      error.hidden = true;
      var title = form.elements.title.value.trim();
      if (!title) { showError(error, '请填写书名'); form.elements.title.focus(); return; }
      var systems = Array.prototype.filter.call(form.querySelectorAll('input[name="systems"]'),
        function (c) { return c.checked; }).map(function (c) { return c.value; });
      var tags = form.elements.tags.value.split(/[,，、;；]+/).map(function (t) { return t.trim(); }).filter(Boolean);
      var body = {
        title: title, subtitle: form.elements.subtitle.value.trim(), grouping: form.elements.grouping.value,
        selection: { query: form.elements.query.value.trim(), systems: systems, tags: tags }
      };
      api('POST', '/api/v1/handbooks', body)
        .then(function (hb) { location.assign('/handbooks/' + hb.id); })
        .catch(function (err) { showError(error, '创建未成功：' + friendly(err)); });
    });
  }

  function onPublishEdition(button) {
    button.addEventListener('click', function () {
      var holder = button.closest('[data-handbook-id]');
      button.disabled = true;
      api('POST', '/api/v1/handbooks/' + holder.getAttribute('data-handbook-id') + '/editions', {})
        .then(function (ed) { toast('已发布第 ' + ed.number + ' 版', 'ok'); setTimeout(function () { location.reload(); }, 800); })
        .catch(function (err) { button.disabled = false; toast('发布未成功：' + friendly(err), 'error'); });
    });
  }

  // Handbook exports: PDF/Word run as background jobs; show progress, then the download link.
  function onExportJob(button) {
    button.addEventListener('click', function () {
      var holder = button.closest('[data-handbook-id]');
      var id = holder.getAttribute('data-handbook-id');
      var status = document.querySelector('.export-status');
      var edition = button.getAttribute('data-edition');
      var body = { format: button.getAttribute('data-export-job') };
      if (edition) body.edition = parseInt(edition, 10);
      status.hidden = false;
      status.textContent = '正在提交导出任务…';
      button.disabled = true;
      function show(job) {
        status.textContent = '';
        var line = document.createElement('p');
        var total = job.total || 0;
        line.textContent = (job.format === 'pdf' ? 'PDF' : 'Word') + '：' + job.phase +
          (total ? '（' + job.done + ' / ' + total + ' 条）' : '');
        status.appendChild(line);
        if (job.status === 'queued' || job.status === 'running') {
          var bar = document.createElement('progress');
          bar.max = Math.max(total, 1); bar.value = job.done || 0;
          bar.setAttribute('aria-label', '导出进度');
          status.appendChild(bar);
        }
        if (job.warning) {
          var warn = document.createElement('p');
          warn.className = 'notice notice-warn';
          warn.textContent = job.warning;
          status.appendChild(warn);
        }
        if (job.status === 'done') {
          var link = document.createElement('a');
          link.href = job.download_url; link.className = 'btn btn-primary btn-sm';
          link.setAttribute('download', job.filename);
          link.setAttribute('data-download', job.format);
          link.textContent = '下载 ' + job.filename;
          status.appendChild(link);
          button.disabled = false;
        } else if (job.status === 'failed') {
          line.textContent = '导出失败：' + job.error;
          button.disabled = false;
        } else {
          setTimeout(function () { poll(job.id); }, 700);
        }
      }
      function poll(jobId) {
        api('GET', '/api/v1/handbooks/export-jobs/' + jobId).then(show)
          .catch(function (err) { button.disabled = false; status.textContent = '查询导出进度失败：' + friendly(err); });
      }
      api('POST', '/api/v1/handbooks/' + id + '/exports', body).then(show)
        .catch(function (err) { button.disabled = false; status.textContent = '导出未成功：' + friendly(err); });
    });
  }

  // Hand shaping: every change is saved at once (PATCH shaping) and the preview reloads,
  // so what the page shows is always what the export will print.
  function onShaping(article) {
    var id = article.getAttribute('data-handbook-id');
    var shaping = JSON.parse(article.getAttribute('data-shaping'));
    function save(patch, done) {
      api('PATCH', '/api/v1/handbooks/' + id, patch)
        .then(function () { toast(done, 'ok'); setTimeout(function () { location.reload(); }, 300); })
        .catch(function (err) { toast('保存未成功：' + friendly(err), 'error'); });
    }
    function without(list, value) { return list.filter(function (x) { return x !== value; }); }
    function currentOrder() {
      return Array.prototype.map.call(article.querySelectorAll('[data-entry]'),
        function (li) { return parseInt(li.getAttribute('data-entry'), 10); });
    }
    article.addEventListener('click', function (ev) {
      var target = ev.target.closest('button');
      if (!target) return;
      var li = target.closest('[data-entry]');
      var entryId = li ? parseInt(li.getAttribute('data-entry'), 10) : 0;
      if (target.hasAttribute('data-move')) {
        var order = currentOrder();
        var i = order.indexOf(entryId), j = i + parseInt(target.getAttribute('data-move'), 10);
        if (j < 0 || j >= order.length) return;
        order[i] = order[j]; order[j] = entryId;
        shaping.order = order;
        save({ shaping: shaping }, '已调整顺序');
      } else if (target.hasAttribute('data-drop')) {
        shaping.excluded = shaping.excluded.concat([entryId]);
        shaping.pinned = without(shaping.pinned, entryId);
        shaping.order = without(currentOrder(), entryId);
        save({ shaping: shaping }, '已移除条目');
      } else if (target.hasAttribute('data-save-intro')) {
        save({ intro: document.getElementById('hb-intro').value }, '已保存前言');
      } else if (target.hasAttribute('data-save-note')) {
        var area = target.parentNode.querySelector('[data-chapter-note]');
        shaping.chapter_notes[area.getAttribute('data-chapter-note')] = area.value;
        save({ shaping: shaping }, '已保存本章说明');
      }
    });
    var side = document.querySelector('.entry-side');
    side.addEventListener('click', function (ev) {
      var target = ev.target.closest('button');
      if (!target) return;
      if (target.hasAttribute('data-restore')) {
        var rid = parseInt(target.closest('[data-excluded]').getAttribute('data-excluded'), 10);
        shaping.excluded = without(shaping.excluded, rid);
        save({ shaping: shaping }, '已恢复条目');
      } else if (target.hasAttribute('data-pick')) {
        var pid = parseInt(target.getAttribute('data-pick'), 10);
        shaping.excluded = without(shaping.excluded, pid);
        if (shaping.pinned.indexOf(pid) < 0) shaping.pinned = shaping.pinned.concat([pid]);
        shaping.order = currentOrder().concat([pid]);
        save({ shaping: shaping }, '已加入条目');
      }
    });
    var input = document.getElementById('hb-pick');
    var results = side.querySelector('[data-pick-results]');
    var timer = null;
    input.addEventListener('input', function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { results.textContent = ''; return; }
      timer = setTimeout(function () {
        api('GET', '/api/v1/search?k=8&q=' + encodeURIComponent(q)).then(function (res) {
          results.textContent = '';
          var shown = currentOrder();
          res.data.forEach(function (hit) {
            if (shown.indexOf(hit.entry.id) >= 0) return;
            var item = document.createElement('li');
            item.textContent = hit.entry.title + ' ';
            var add = document.createElement('button');
            add.type = 'button'; add.className = 'btn btn-quiet btn-xs';
            add.setAttribute('data-pick', String(hit.entry.id));
            add.setAttribute('aria-label', '加入 ' + hit.entry.title);
            add.textContent = '加入';
            item.appendChild(add);
            results.appendChild(item);
          });
          if (!results.children.length) results.textContent = '没有可加入的条目';
        }).catch(function (err) { results.textContent = '搜索失败：' + friendly(err); });
      }, 250);
    });
  }

  function onUserscriptForm(form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var error = form.querySelector('.form-error');
      error.hidden = true;
      var fields;
      try { fields = JSON.parse(form.elements.fields.value); } catch (e) { fields = null; }
      if (!fields || typeof fields !== 'object') { showError(error, '字段映射不是有效的 JSON 对象'); return; }
      var body = {
        match: form.elements.match.value.trim(), fields: fields,
        source: form.elements.source.value.trim(), kb_url: form.elements.kb_url.value
      };
      api('POST', '/api/v1/widget/userscripts', body).then(function (res) {
        var out = document.getElementById('us-output');
        out.value = res.userscript;
        var link = document.getElementById('us-download');
        link.href = URL.createObjectURL(new Blob([res.userscript], { type: 'text/javascript' }));
        document.getElementById('us-result').hidden = false;
        toast('已生成，密钥绑定 ' + res.origin, 'ok');
      }).catch(function (err) { showError(error, '生成未成功：' + friendly(err)); });
    });
  }

  function onReplay(box) {
    var button = box.querySelector('[data-replay]');
    button.addEventListener('click', function () {
      button.disabled = true;
      var path = '/api/v1/hooks/' + encodeURIComponent(box.getAttribute('data-hook')) +
        '/dead-letters/' + box.getAttribute('data-letter-id') + '/replay';
      api('POST', path).then(function (res) {
        if (res.outcome === 'dead_letter') {
          button.disabled = false;
          toast('仍未能处理：' + res.reason, 'error');
        } else {
          box.hidden = true;
          toast('已处理', 'ok');
        }
      }).catch(function (err) { button.disabled = false; toast('处理未成功：' + friendly(err), 'error'); });
    });
  }

  function ready() {
    var usForm = document.getElementById('userscript-form');
    if (usForm) onUserscriptForm(usForm);
    Array.prototype.forEach.call(document.querySelectorAll('.dead-letter[data-letter-id]'), onReplay);
    var hbForm = document.getElementById('handbook-form');
    if (hbForm) onHandbookForm(hbForm);
    Array.prototype.forEach.call(document.querySelectorAll('[data-publish-edition]'), onPublishEdition);
    Array.prototype.forEach.call(document.querySelectorAll('[data-export-job]'), onExportJob);
    var shapingHolder = document.querySelector('[data-shaping]');
    if (shapingHolder) onShaping(shapingHolder);
    var login = document.getElementById('login-form');
    if (login) onLogin(login);
    Array.prototype.forEach.call(document.querySelectorAll('[data-action="logout"]'), onLogout);
    Array.prototype.forEach.call(document.querySelectorAll('.feedback[data-entry-id]'), onFeedback);
    Array.prototype.forEach.call(document.querySelectorAll('.review-item[data-entry-id]'), onReview);
    var entryForm = document.getElementById('entry-form');
    if (entryForm) onEntryForm(entryForm);
    Array.prototype.forEach.call(document.querySelectorAll('[data-entry-action]'), onEntryAction);
    Array.prototype.forEach.call(document.querySelectorAll('[data-restore-version]'), onRestoreVersion);
    Array.prototype.forEach.call(document.querySelectorAll('form[data-merge-into]'), onMerge);
    Array.prototype.forEach.call(document.querySelectorAll('[data-resolve-flag]'), onResolveFlag);
    Array.prototype.forEach.call(document.querySelectorAll('form[data-api-form]'), onApiForm);
    Array.prototype.forEach.call(document.querySelectorAll('[data-api-call]'), onApiCall);
    Array.prototype.forEach.call(document.querySelectorAll('[data-nav-toggle]'), onNavToggle);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
  window.kbsvc = { api: api, toast: toast, friendly: friendly, csrf: csrf };
})();
