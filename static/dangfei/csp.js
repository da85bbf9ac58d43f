// The content security policy (config/settings.py CONTENT_SECURITY_POLICY) refuses inline
// handlers such as onclick="window.print()"; these data attributes replace them:
//   <script src="{% static 'dangfei/csp.js' %}" defer></script>
//   <button type="button" data-print>打印</button>
//   <select name="year" data-autosubmit>…</select>
// It also labels the cells of every table with its column header (data-label), so that
// below 600 px wide the CSS (admin.css, print_*.css) can show each row as a card.
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

function headerLabels(table) {
  var row = null;
  if (table.tHead && table.tHead.rows.length) {
    row = table.tHead.rows[table.tHead.rows.length - 1];
  } else if (table.rows.length > 1) {
    var first = table.rows[0];
    var allHeads = first.cells.length > 2 && Array.prototype.every.call(first.cells, function (cell) {
      return cell.tagName === "TH";
    });
    if (allHeads) {
      row = first;
      first.classList.add("stack-head");
    }
  }
  if (!row || row.cells.length < 3) {
    return null;
  }
  var labels = [];
  Array.prototype.forEach.call(row.cells, function (cell) {
    var text = cell.textContent.replace(/\s+/g, " ").trim();
    for (var i = 0; i < (cell.colSpan || 1); i++) {
      labels.push(text);
    }
  });
  return labels;
}

function labelTable(table) {
  if (table.classList.contains("no-stack")) {
    return;
  }
  var labels = headerLabels(table);
  if (!labels) {
    return;
  }
  table.classList.add("stack-table");
  Array.prototype.forEach.call(table.rows, function (row) {
    if (row.parentNode === table.tHead || row.classList.contains("stack-head")) {
      return;
    }
    var column = 0;
    Array.prototype.forEach.call(row.cells, function (cell) {
      if (!cell.hasAttribute("data-label") && (cell.colSpan || 1) < labels.length) {
        cell.setAttribute("data-label", labels[column] || "");
      }
      nameFields(cell, cell.getAttribute("data-label"));
      column += cell.colSpan || 1;
    });
  });
}

// An inline's fields have only the column header above them: give each its name.
function nameFields(cell, label) {
  if (!label) {
    return;
  }
  cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
    var labelled = field.hasAttribute("aria-label") || field.hasAttribute("aria-labelledby") ||
      (field.id && document.querySelector("label[for='" + field.id + "']"));
    if (!labelled) {
      field.setAttribute("aria-label", label);
    }
  });
}

// A chart drawn as <svg role="img"> is named after the heading above it.
function nameCharts() {
  document.querySelectorAll("svg[role=img]:not([aria-label]):not([aria-labelledby])").forEach(
    function (svg) {
      var node = svg.previousElementSibling;
      while (node && !/^H[1-6]$/.test(node.tagName)) {
        node = node.previousElementSibling;
      }
      var heading = node || (svg.closest("section, .module") || document).querySelector("h2, h3");
      svg.setAttribute("aria-label", heading ? heading.textContent.trim() : "图表");
    }
  );
}

function labelTables() {
  document.querySelectorAll("table").forEach(labelTable);
  nameCharts();
}

document.addEventListener("DOMContentLoaded", labelTables);
// The admin's inlines add rows ("添加另一个"): label them as well.
document.addEventListener("formset:added", labelTables);
