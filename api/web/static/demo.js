/* Demo helpdesk form: nothing is submitted anywhere; the point is the widget beside it. */
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('ticket-form');
    var saved = document.querySelector('.hd-saved');
    if (!form) return;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      saved.textContent = '演示页面：工单未真正提交';
    });
  });
})();
