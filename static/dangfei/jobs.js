// 我的下载 (projects/admin/jobs.py): while a job is queued or running, ask the JSON status
// endpoint every two seconds and move its progress bar; when a job ends, reload the page
// so that its download link or failure reason shows. No inline script: the CSP refuses it.
"use strict";
(function () {
  var holder = document.querySelector("[data-jobs-status-url]");
  if (!holder) {
    return;
  }
  var url = holder.getAttribute("data-jobs-status-url");

  function activeIds() {
    var bars = document.querySelectorAll("progress[data-job][data-active='1']");
    return Array.prototype.map.call(bars, function (bar) {
      return bar.getAttribute("data-job");
    });
  }

  function text(selector, value) {
    var node = document.querySelector(selector);
    if (node) {
      node.textContent = value;
    }
  }

  function poll() {
    var ids = activeIds();
    if (!ids.length) {
      return;
    }
    fetch(url + "?ids=" + ids.join(","), { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { jobs: [] };
      })
      .then(function (data) {
        var ended = false;
        data.jobs.forEach(function (job) {
          var bar = document.querySelector("progress[data-job='" + job.id + "']");
          if (bar) {
            bar.value = job.percent;
          }
          text("[data-job-percent='" + job.id + "']", job.percent + " %");
          text("[data-job-status='" + job.id + "']", job.status_label);
          if (job.total) {
            text(
              "[data-job-count='" + job.id + "']",
              job.done.toLocaleString() + " / " + job.total.toLocaleString()
            );
          }
          if (job.status !== "queued" && job.status !== "running") {
            ended = true;
          }
        });
        if (ended) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
