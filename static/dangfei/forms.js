// Form helpers that the content security policy allows (a static file, no inline script):
//  - date inputs (data-date-input) become the phone's own date picker below 600 px;
//  - the budget-line editor shows each line's amount and the total as you type, and warns
//    when the total passes the cap of the grade applied for (data-caps on 申报等级).
// Amounts are computed in whole cents with BigInt: no floating point touches money.
"use strict";
(function () {
  var PHONE = window.matchMedia("(max-width: 600px)");

  // --- dates --------------------------------------------------------------------------
  var DATE_RE = /^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))\s*$/;

  function isoDate(text) {
    var match = DATE_RE.exec(text || "");
    if (!match) {
      return "";
    }
    var month = match[2] || match[4];
    var day = match[3] || match[5];
    return match[1] + "-" + ("0" + month).slice(-2) + "-" + ("0" + day).slice(-2);
  }

  function nativeDates() {
    if (!PHONE.matches) {
      return;
    }
    document.querySelectorAll("input[data-date-input]").forEach(function (input) {
      if (input.type === "date") {
        return;
      }
      var value = isoDate(input.value);
      input.type = "date";
      input.value = value;
      input.classList.add("native-date");
    });
  }

  // --- money --------------------------------------------------------------------------
  var MONEY_RE = /^\s*¥?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*$/;

  // "1,234.5" -> 123450n (hundredths), or null when it is not an amount.
  function hundredths(text) {
    var match = MONEY_RE.exec(text || "");
    if (!match) {
      return null;
    }
    var whole = match[1].replace(/,/g, "");
    var fraction = ((match[2] || "") + "00").slice(0, 2);
    return BigInt(whole) * 100n + BigInt(fraction);
  }

  function formatCents(cents) {
    var negative = cents < 0n;
    if (negative) {
      cents = -cents;
    }
    var whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var fraction = ("0" + (cents % 100n).toString()).slice(-2);
    return (negative ? "-" : "") + "¥" + whole + "." + fraction;
  }

  // quantity (hundredths) × unit price (cents) -> cents, rounded half up like to_money.
  function lineAmount(quantity, price) {
    var product = quantity * price;
    return (product + 50n) / 100n;
  }

  function budgetGroup() {
    return document.getElementById("budget_lines-group");
  }

  function totalBox(group) {
    var box = document.getElementById("budget-total");
    if (!box) {
      box = document.createElement("p");
      box.id = "budget-total";
      box.className = "budget-total";
      box.setAttribute("aria-live", "polite");
      group.appendChild(box);
    }
    return box;
  }

  function recalculate() {
    var group = budgetGroup();
    // A read-only page shows the lines as text: there is nothing typed to add up.
    if (!group || !group.querySelector("input[name$='-quantity']")) {
      return;
    }
    var total = 0n;
    var complete = true;
    group.querySelectorAll("tr.form-row:not(.empty-form)").forEach(function (row) {
      var quantityField = row.querySelector("input[name$='-quantity']");
      var priceField = row.querySelector("input[name$='-unit_price']");
      var deleteField = row.querySelector("input[name$='-DELETE']");
      var cell = row.querySelector("td.field-budget_amount");
      if (!quantityField || !priceField) {
        return;
      }
      var quantity = hundredths(quantityField.value);
      var price = hundredths(priceField.value);
      var text = "—";
      if (quantity !== null && price !== null) {
        var amount = lineAmount(quantity, price);
        text = formatCents(amount);
        if (!(deleteField && deleteField.checked)) {
          total += amount;
        }
      } else if (quantityField.value || priceField.value) {
        complete = false;
        text = "请填写数字";
      }
      if (cell) {
        var target = cell.querySelector("p") || cell;
        target.textContent = text;
      }
    });
    var box = totalBox(group);
    var message = "预算合计:" + formatCents(total) + (complete ? "" : "(有未填写完整的行)");
    var grade = document.getElementById("id_proposed_grade");
    box.classList.remove("over-cap");
    if (grade && grade.dataset.caps && grade.value) {
      var caps = JSON.parse(grade.dataset.caps);
      var cap = caps[grade.value];
      if (cap !== undefined) {
        var capCents = hundredths(cap);
        if (capCents !== null && total > capCents) {
          message += ",超过所选等级上限 " + formatCents(capCents);
          box.classList.add("over-cap");
        }
      }
    }
    box.textContent = message;
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest("#budget_lines-group") || event.target.id === "id_proposed_grade") {
      recalculate();
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest("#budget_lines-group") || event.target.id === "id_proposed_grade") {
      recalculate();
    }
  });
  document.addEventListener("formset:added", recalculate);
  document.addEventListener("formset:removed", recalculate);
  document.addEventListener("DOMContentLoaded", function () {
    nativeDates();
    recalculate();
  });
})();
