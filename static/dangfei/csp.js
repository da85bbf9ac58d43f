// The content security policy (config/settings.py CONTENT_SECURITY_POLICY) refuses inline
// handlers such as onclick="window.print()"; these data attributes replace them:
//   <script src="{% static 'dangfei/csp.js' %}" defer></script>
//   <button type="button" data-print>打印</button>
//   <select name="year" data-autosubmit>…</select>
"use strict";
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) {
    field.form.submit();
  }
});
