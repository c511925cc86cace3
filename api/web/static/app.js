/* Web UI behaviour: small fetches to the JSON API with the session cookie and CSRF header. */
(function () {
  'use strict';

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function csrf() {
    var token = csrfMeta ? csrfMeta.getAttribute('content') : '';
    if (token) return token;
    var m = document.cookie.match(/(?:^|;\s*)(?:kbsvc_csrf|csrftoken|csrf_token)=([^;]+)/);
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
          showError(error, err.status === 401 || err.status === 403 ? '用户名或密码不正确' : friendly(err));
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

  function onCaptureTicket(button) {
    button.addEventListener('click', function () {
      button.disabled = true;
      api('POST', '/api/v1/tickets/' + button.getAttribute('data-capture-ticket') + '/capture')
        .then(function (entry) { location.assign('/capture/' + entry.id); })
        .catch(function (err) { button.disabled = false; toast('采编未成功：' + friendly(err), 'error'); });
    });
  }

  function splitTags(value) {
    return value.split(/[,，、;；]+/).map(function (t) { return t.trim(); }).filter(Boolean);
  }

  function onCapture(form) {
    var id = form.getAttribute('data-entry-id');
    Array.prototype.forEach.call(form.querySelectorAll('[data-add-tag]'), function (chip) {
      chip.addEventListener('click', function () {
        var input = form.elements.tags;
        var tags = splitTags(input.value);
        var tag = chip.getAttribute('data-add-tag');
        if (tags.indexOf(tag) < 0) tags.push(tag);
        input.value = tags.join('，');
        chip.remove();
        input.focus();
      });
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var error = form.querySelector('.form-error');
      error.hidden = true;
      var fields = ['title', 'symptom', 'cause', 'solution', 'workaround', 'system', 'module',
        'department', 'category'];
      var body = { base_version: parseInt(form.getAttribute('data-version'), 10) };
      fields.forEach(function (name) { body[name] = form.elements[name].value.trim(); });
      body.tags = splitTags(form.elements.tags.value);
      if (!body.title) { showError(error, '请填写标题'); form.elements.title.focus(); return; }
      var review = ev.submitter && ev.submitter.getAttribute('data-then') === 'review';
      var buttons = form.querySelectorAll('button[type="submit"]');
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      var saved = false;
      api('PATCH', '/api/v1/entries/' + id, body)
        .then(function () {
          saved = true;
          return review ? api('POST', '/api/v1/entries/' + id + '/submit') : null;
        })
        .then(function () { location.assign('/entries/' + id); })
        .catch(function (err) {
          if (saved) { location.assign('/entries/' + id); return; }
          Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
          showError(error, err.status === 409 ? '这条记录已被别人修改，请刷新页面后再保存。' : '保存未成功：' + friendly(err));
        });
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
    var login = document.getElementById('login-form');
    if (login) onLogin(login);
    Array.prototype.forEach.call(document.querySelectorAll('[data-action="logout"]'), onLogout);
    Array.prototype.forEach.call(document.querySelectorAll('.feedback[data-entry-id]'), onFeedback);
    Array.prototype.forEach.call(document.querySelectorAll('.review-item[data-entry-id]'), onReview);
    var capture = document.getElementById('capture-form');
    if (capture) onCapture(capture);
    Array.prototype.forEach.call(document.querySelectorAll('[data-capture-ticket]'), onCaptureTicket);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
  window.kbsvc = { api: api, toast: toast, friendly: friendly };
})();
