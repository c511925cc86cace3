/* Attachments on the edit and capture forms: choose, drop or paste (Ctrl+V) images and PDFs.
   With an entry they upload at once; on the capture form they wait until the entry is saved. */
(function () {
  'use strict';

  var box = document.getElementById('attachments');
  if (!box) return;
  var list = box.querySelector('.att-gallery');
  var error = box.querySelector('.att-error');
  var input = box.querySelector('input[type=file]');
  var drop = box.querySelector('.att-drop');
  var queued = [];
  var TYPES = ['image/png', 'image/jpeg', 'application/pdf'];

  function entryId() { return box.getAttribute('data-entry-id'); }
  function csrf() { return window.kbsvc ? window.kbsvc.csrf() : ''; }
  function friendly(err) { return window.kbsvc ? window.kbsvc.friendly(err) : String(err); }

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function upload(id, file) {
    var form = new FormData();
    form.append('file', file, file.name || 'screenshot.png');
    return fetch('/api/v1/entries/' + id + '/attachments', {
      method: 'POST', credentials: 'same-origin', body: form,
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf() }
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok) {
          var err = new Error((data && data.message) || ('上传失败（' + res.status + '）'));
          err.status = res.status; err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function shown(att) {
    var li = el('li');
    var fig = el('figure', 'att-item');
    fig.setAttribute('data-attachment-id', att.id);
    var link = el('a', att.thumb_url ? 'att-image' : 'att-file');
    link.href = att.url; link.target = '_blank'; link.rel = 'noopener';
    if (att.thumb_url) {
      var img = el('img'); img.src = att.thumb_url; img.alt = att.filename;
      link.appendChild(img);
    } else {
      link.appendChild(el('span', 'att-icon', 'PDF'));
      link.appendChild(document.createTextNode(att.filename));
    }
    fig.appendChild(link);
    var cap = el('figcaption');
    cap.appendChild(el('span', 'att-name', att.filename));
    if (att.pending_review) cap.appendChild(el('span', 'badge badge-warn', '待审核'));
    fig.appendChild(cap);
    if (att.ocr_status === 'pending') fig.appendChild(el('p', 'att-ocr muted', '正在识别图中文字…'));
    li.appendChild(fig);
    var remove = el('button', 'btn btn-sm btn-danger-quiet', '移除');
    remove.type = 'button';
    remove.setAttribute('data-remove-attachment', att.id);
    li.appendChild(remove);
    return li;
  }

  function queuedItem(file) {
    var li = el('li', 'att-queued');
    var fig = el('figure', 'att-item');
    if (/^image\//.test(file.type)) {
      // A data: URL, not blob: (the page's CSP allows img-src 'self' data: only).
      var img = el('img'); img.alt = file.name;
      var reader = new FileReader();
      reader.onload = function () { img.src = reader.result; };
      reader.readAsDataURL(file);
      fig.appendChild(img);
    }
    var cap = el('figcaption');
    cap.appendChild(el('span', 'att-name', file.name || '粘贴的截图'));
    cap.appendChild(el('span', 'badge', '保存后上传'));
    fig.appendChild(cap);
    li.appendChild(fig);
    var remove = el('button', 'btn btn-sm btn-danger-quiet', '移除');
    remove.type = 'button';
    remove.addEventListener('click', function () {
      queued = queued.filter(function (f) { return f !== file; });
      li.remove();
    });
    li.appendChild(remove);
    return li;
  }

  function add(files) {
    showError('');
    Array.prototype.forEach.call(files, function (file) {
      if (TYPES.indexOf(file.type) < 0 && file.type) {
        showError('只能上传 PNG、JPEG 图片或 PDF 文件：' + file.name);
        return;
      }
      var id = entryId();
      if (!id) { queued.push(file); list.appendChild(queuedItem(file)); return; }
      upload(id, file).then(function (att) {
        list.appendChild(shown(att));
        window.kbsvc.toast(att.pending_review ? '附件已加入待审核的修改' : '附件已上传', 'ok');
      }).catch(function (err) { showError('“' + (file.name || '截图') + '”未上传：' + friendly(err)); });
    });
  }

  input.addEventListener('change', function () { add(input.files); input.value = ''; });
  drop.addEventListener('dragover', function (ev) { ev.preventDefault(); drop.classList.add('att-over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('att-over'); });
  drop.addEventListener('drop', function (ev) {
    ev.preventDefault();
    drop.classList.remove('att-over');
    add(ev.dataTransfer.files);
  });
  // A pasted screenshot arrives as a file item; pasted text keeps its normal behaviour.
  document.addEventListener('paste', function (ev) {
    var items = (ev.clipboardData && ev.clipboardData.items) || [];
    var files = [];
    Array.prototype.forEach.call(items, function (item) {
      if (item.kind === 'file') {
        var f = item.getAsFile();
        if (f) files.push(new File([f], f.name && f.name !== 'image.png' ? f.name : '粘贴的截图.png', { type: f.type }));
      }
    });
    if (!files.length) return;
    ev.preventDefault();
    add(files);
  });
  list.addEventListener('click', function (ev) {
    var btn = ev.target.closest('[data-remove-attachment]');
    if (!btn || !entryId()) return;
    btn.disabled = true;
    fetch('/api/v1/entries/' + entryId() + '/attachments/' + btn.getAttribute('data-remove-attachment'), {
      method: 'DELETE', credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf() }
    }).then(function (res) {
      if (!res.ok) throw Object.assign(new Error('移除失败'), { status: res.status });
      return res.json();
    }).then(function (data) {
      btn.closest('li').remove();
      window.kbsvc.toast(data.pending_review ? '移除附件已加入待审核的修改' : '附件已移除', 'ok');
    }).catch(function (err) { btn.disabled = false; showError(friendly(err)); });
  });

  // The capture form saves the entry first, then calls this before leaving the page.
  window.kbsvcAttachments = {
    flush: function (id) {
      var files = queued.slice();
      queued = [];
      var failed = [];
      return files.reduce(function (done, file) {
        return done.then(function () {
          return upload(id, file).catch(function (err) { failed.push(file.name + '：' + friendly(err)); });
        });
      }, Promise.resolve()).then(function () {
        // The entry is saved either way; say which files did not make it before leaving.
        if (failed.length) window.alert('条目已保存，但这些附件没有上传：\n' + failed.join('\n'));
      });
    }
  };
})();
