// Filters, pages of articles, keyboard navigation and the probability tooltip. Plain script, no
// modules and no network, so the page works when opened from disk.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("fa-settings").textContent);
  var articles = Array.prototype.slice.call(document.querySelectorAll("article.art"));
  var sentences = Array.prototype.slice.call(document.querySelectorAll(".s"));
  var tip = document.getElementById("tip");
  var form = document.getElementById("filters");
  var minConf = document.getElementById("min-conf");
  var lowOnly = document.getElementById("low-only");
  var shown = articles, page = 0, current = null;

  function checked(name) {
    var out = {};
    form.querySelectorAll("input[name=" + name + "]").forEach(function (box) { out[box.value] = box.checked; });
    return out;
  }

  // One filter per head: head k's labels are in data-h<k>, its probabilities in data-p<k>.
  function applyFilters() {
    var wanted = settings.heads.map(function (h, k) { return checked("h" + k); });
    var least = parseFloat(minConf.value), onlyLow = lowOnly.checked;
    var active = least > 0 || onlyLow || wanted.some(function (w) {
      return Object.keys(w).some(function (k) { return !w[k]; });
    });
    document.getElementById("min-conf-value").textContent = least.toFixed(2);
    var visible = 0;
    shown = articles.filter(function (article) {
      var count = 0;
      article.querySelectorAll(".s").forEach(function (s) {
        var conf = s.dataset.conf === undefined ? null : parseFloat(s.dataset.conf);
        var keep = wanted.every(function (w, k) { return w[s.dataset["h" + k]]; }) &&
          (conf === null || conf >= least) && (!onlyLow || s.classList.contains("low"));
        s.classList.toggle("off", !keep);
        if (keep) { count += 1; }
      });
      visible += count;
      return count > 0 || !active;
    });
    document.getElementById("status").textContent = "Showing " + visible + " of " + sentences.length +
      " sentences in " + shown.length + " of " + articles.length + " articles.";
    page = 0;
    showPage();
  }

  function pageCount() { return Math.max(1, Math.ceil(shown.length / settings.page_size)); }

  function showPage() {
    var first = page * settings.page_size, on = shown.slice(first, first + settings.page_size);
    articles.forEach(function (a) { a.hidden = true; });
    on.forEach(function (a) { a.hidden = false; });
    document.getElementById("page-info").textContent = shown.length ? "Articles " + (first + 1) + "–" +
      (first + on.length) + " of " + shown.length + " (page " + (page + 1) + " of " + pageCount() + ")" : "No article matches.";
    ["prev", "prev2"].forEach(function (id) { document.getElementById(id).disabled = page === 0; });
    ["next", "next2"].forEach(function (id) { document.getElementById(id).disabled = page >= pageCount() - 1; });
    sentences.forEach(function (s) { s.tabIndex = -1; });
    var reachable = pageSentences();
    if (reachable.length) { reachable[0].tabIndex = 0; }
    hideTip();
  }

  function pageSentences() {
    var first = page * settings.page_size, out = [];
    shown.slice(first, first + settings.page_size).forEach(function (a) {
      a.querySelectorAll(".s:not(.off)").forEach(function (s) { out.push(s); });
    });
    return out;
  }

  function turn(step) {
    page = Math.min(Math.max(page + step, 0), pageCount() - 1);
    showPage();
    document.getElementById("articles").scrollIntoView();
  }

  function row(table, label, p, top) {
    var tr = document.createElement("tr"), name = document.createElement("td"), value = document.createElement("td");
    name.textContent = label.replace(/_/g, " ");
    value.textContent = p.toFixed(3);
    if (top) { tr.className = "top"; }
    tr.appendChild(name); tr.appendChild(value); table.appendChild(tr);
  }

  function probTable(title, labels, values, chosen) {
    var table = document.createElement("table"), caption = document.createElement("caption");
    caption.textContent = title;
    table.appendChild(caption);
    labels.map(function (l, i) { return [l, parseFloat(values[i])]; })
      .sort(function (a, b) { return b[1] - a[1]; })
      .forEach(function (pair) { row(table, pair[0], pair[1], pair[0] === chosen); });
    return table;
  }

  function line(text) { var p = document.createElement("div"); p.textContent = text; return p; }

  function showTip(s) {
    tip.textContent = "";
    var d = s.dataset;
    tip.appendChild(line("Sentence " + (parseInt(d.n, 10) + 1) + ", characters " + d.start + "–" + d.end));
    if (d.conf !== undefined) {
      settings.heads.forEach(function (h, k) {
        tip.appendChild(probTable(h.title, h.labels, d["p" + k].split(" "), d["h" + k]));
      });
      tip.appendChild(line("confidence " + parseFloat(d.conf).toFixed(3) + (s.classList.contains("low") ?
        " (low: under " + settings.low + ")" : "")));
    } else {
      tip.appendChild(line(settings.heads.map(function (h, k) {
        return h.title + " " + d["h" + k].replace(/_/g, " ");
      }).join(", ") + " (given labels, no probabilities)"));
    }
    if (d.speaker) { tip.appendChild(line("speaker: " + d.speaker + (d.refers ? " (refers to " + d.refers + ")" : ""))); }
    if (d.cue) { tip.appendChild(line("cue: " + d.cue)); }
    tip.hidden = false;
    var box = s.getBoundingClientRect();
    var left = Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8);
    tip.style.left = Math.max(8, left) + "px";
    tip.style.top = (window.scrollY + box.bottom + 6) + "px";
    s.setAttribute("aria-describedby", "tip");
    var article = s.closest("article");
    article.querySelectorAll(".mk.on").forEach(function (m) { m.classList.remove("on"); });
    article.querySelectorAll('.mk[data-of="' + d.n + '"]').forEach(function (m) { m.classList.add("on"); });
  }

  function hideTip() {
    tip.hidden = true;
    document.querySelectorAll(".mk.on").forEach(function (m) { m.classList.remove("on"); });
  }

  function move(s, where) {
    var list = pageSentences(), at = list.indexOf(s), next;
    if (where === "first") { next = list[0]; } else if (where === "last") { next = list[list.length - 1]; }
    else { next = list[Math.min(Math.max(at + where, 0), list.length - 1)]; }
    if (next && next !== s) { s.tabIndex = -1; next.tabIndex = 0; next.focus(); }
  }

  var keys = { ArrowDown: 1, ArrowRight: 1, j: 1, ArrowUp: -1, ArrowLeft: -1, k: -1, Home: "first", End: "last" };
  document.addEventListener("keydown", function (event) {
    var s = event.target.closest && event.target.closest(".s");
    if (!s) { return; }
    if (event.key === "Escape") { hideTip(); return; }
    if (keys[event.key] !== undefined) { event.preventDefault(); move(s, keys[event.key]); }
  });
  document.addEventListener("focusin", function (event) {
    var s = event.target.closest && event.target.closest(".s");
    if (!s) { return; }
    if (current && current !== s) { current.tabIndex = -1; current.removeAttribute("aria-describedby"); }
    current = s; s.tabIndex = 0;
    showTip(s);
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.closest && event.target.closest(".s")) { hideTip(); }
  });
  document.addEventListener("mouseover", function (event) {
    var s = event.target.closest && event.target.closest(".s");
    if (s) { showTip(s); } else if (!(current && current === document.activeElement)) { hideTip(); }
  });

  // Open an article (and the sentence at character ``at``, if given), clearing filters that hide it.
  function goTo(index, at) {
    var article = articles[index], target = null;
    article.querySelectorAll(".s").forEach(function (s) {
      if (at !== undefined && +s.dataset.start <= at && at < +s.dataset.end) { target = s; }
    });
    if (shown.indexOf(article) < 0 || (target && target.classList.contains("off"))) { form.reset(); applyFilters(); }
    page = Math.floor(shown.indexOf(article) / settings.page_size);
    showPage();
    if (target) { target.focus(); } else { article.scrollIntoView(); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-goto]");
    if (!link) { return; }
    event.preventDefault();
    goTo(parseInt(link.dataset.goto, 10), link.dataset.at === undefined ? undefined : parseInt(link.dataset.at, 10));
  });

  form.addEventListener("input", applyFilters);
  document.getElementById("show-all").addEventListener("click", function () { form.reset(); applyFilters(); });
  document.getElementById("prev").addEventListener("click", function () { turn(-1); });
  document.getElementById("next").addEventListener("click", function () { turn(1); });
  document.getElementById("prev2").addEventListener("click", function () { turn(-1); });
  document.getElementById("next2").addEventListener("click", function () { turn(1); });
  applyFilters();
  var target = /^#a(\d+)$/.exec(window.location.hash);
  if (target && articles[+target[1]]) { goTo(+target[1]); }
  document.documentElement.setAttribute("data-ready", "1");
  window.factattrReady = performance.now();
}());
