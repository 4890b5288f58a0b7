/* The catalog explorer (reports/explorer.py): filter, sort, tick and compare the
   pipelines embedded in the page as JSON. No network, no library: the page works
   offline from a file manager. Every name is untrusted: it goes into the page as
   text (textContent), never as HTML. The comparison follows comparison.py rule for
   rule (tests/reports/test_explorer_browser.py checks they agree). */
(function () {
  "use strict";
  var source = document.getElementById("explorer-data");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  var rows = data.rows;
  var MIN_PIPELINES = 2, MAX_PIPELINES = 10;
  var MISSING = {};
  var byId = {};
  rows.forEach(function (row) { byId[row.id] = row; });

  /* ---- the comparison: the rules of comparison.py ---- */

  function codePointCompare(a, b) {  /* Python's sorted() on str */
    var x = Array.from(a), y = Array.from(b);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d !== 0) { return d; }
    }
    return x.length - y.length;
  }

  function isNumberLike(v) { return typeof v === "number" || typeof v === "boolean"; }

  function pyEqual(a, b) {  /* Python == on JSON values (True == 1, key order ignored) */
    if (isNumberLike(a) && isNumberLike(b)) { return Number(a) === Number(b); }
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") { return a === b; }
    if (Array.isArray(a) !== Array.isArray(b)) { return false; }
    if (Array.isArray(a)) {
      if (a.length !== b.length) { return false; }
      for (var i = 0; i < a.length; i++) { if (!pyEqual(a[i], b[i])) { return false; } }
      return true;
    }
    var ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) { return false; }
    for (var k = 0; k < ka.length; k++) {
      if (!Object.prototype.hasOwnProperty.call(b, ka[k]) || !pyEqual(a[ka[k]], b[ka[k]])) { return false; }
    }
    return true;
  }

  function has(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  function uniqueSorted(lists) {
    var seen = {};
    lists.forEach(function (list) { list.forEach(function (k) { seen[k] = true; }); });
    return Object.keys(seen).sort(codePointCompare);
  }

  function splitParams(paramsList) {
    var differing = {}, same = {};
    uniqueSorted(paramsList.map(Object.keys)).forEach(function (key) {
      var values = paramsList.map(function (p) { return has(p, key) ? p[key] : MISSING; });
      var equal = values.every(function (v) { return v !== MISSING && pyEqual(v, values[0]); });
      if (equal) { same[key] = values[0]; }
      else { differing[key] = values.map(function (v) { return v === MISSING ? null : v; }); }
    });
    return [differing, same];
  }

  function directionOf(metric, engines) {  /* catalog/engine_metrics.direction_of, unknown: null */
    var found = {};
    engines.forEach(function (engine) {
      var declared = data.directions[engine];
      if (declared && has(declared, metric)) { found[declared[metric]] = true; }
    });
    var directions = Object.keys(found);
    return directions.length === 1 ? directions[0] : null;
  }

  function bestOf(values, direction) {
    var present = values.filter(function (v) { return v !== null; });
    if (direction === null || present.length < 2) { return []; }
    var target = direction === "min" ? Math.min.apply(null, present) : Math.max.apply(null, present);
    var best = [];
    values.forEach(function (v, i) { if (v === target) { best.push(i); } });
    return best;
  }

  function scoreRows(picked) {
    var engines = uniqueSorted([picked.map(function (r) { return r.engine; }).filter(Boolean)]);
    var known = ["train", "val", "test"];
    var partitions = known.filter(function (p) { return picked.some(function (r) { return has(r.scores, p); }); });
    var others = uniqueSorted(picked.map(function (r) { return Object.keys(r.scores); }))
      .filter(function (p) { return known.indexOf(p) < 0; });
    var result = [];
    partitions.concat(others).forEach(function (partition) {
      var metrics = uniqueSorted(picked.map(function (r) { return Object.keys(r.scores[partition] || {}); }));
      metrics.forEach(function (metric) {
        var values = picked.map(function (r) {
          var value = (r.scores[partition] || {})[metric];
          return typeof value === "number" ? value : null;
        });
        var direction = directionOf(metric, engines);
        result.push({ partition: partition, metric: metric, values: values, direction: direction,
                      best: bestOf(values, direction) });
      });
    });
    return result;
  }

  /* The comparison of the pipelines named DATASET/FOLDER, shaped as `compare --json`. */
  function compare(references) {
    var picked = references.map(function (reference) {
      var row = rows.filter(function (r) { return r.reference === reference; })[0];
      if (!row) { throw new Error("no pipeline " + reference + " in this page"); }
      return row;
    });
    if (picked.length < MIN_PIPELINES || picked.length > MAX_PIPELINES) {
      throw new Error("compare takes " + MIN_PIPELINES + " to " + MAX_PIPELINES + " pipelines");
    }
    var split = splitParams(picked.map(function (r) { return r.params; }));
    return { pipelines: picked.map(function (r) { return r.reference; }),
             params_differing: split[0], params_same: split[1], scores: scoreRows(picked) };
  }

  /* ---- formatting, as formatting.format_value ---- */

  function format(value) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value === "boolean") { return value ? "yes" : "no"; }
    if (typeof value === "number") {
      if (!isFinite(value)) { return ""; }
      if (Number.isInteger(value) && Math.abs(value) < 1e15) { return String(value); }
      if (Math.abs(value) >= 1e5) { return value.toExponential(3); }
      var text = value.toPrecision(4);
      if (text.indexOf("e") < 0 && text.indexOf(".") >= 0) { text = text.replace(/0+$/, "").replace(/\.$/, ""); }
      return text;
    }
    if (typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  /* ---- the table ---- */

  /* dataset -> the param keys that take two values or more among its rows (absent is a value) */
  var varying = {};
  (function () {
    var values = {}, counts = {};
    rows.forEach(function (row) {
      var seen = values[row.dataset] = values[row.dataset] || {};
      counts[row.dataset] = (counts[row.dataset] || 0) + 1;
      Object.keys(row.params).forEach(function (key) {
        seen[key] = seen[key] || { values: {}, rows: 0 };
        seen[key].values[JSON.stringify(row.params[key])] = true;
        seen[key].rows += 1;
      });
    });
    Object.keys(values).forEach(function (dataset) {
      varying[dataset] = Object.keys(values[dataset]).filter(function (key) {
        var found = values[dataset][key];
        return Object.keys(found.values).length > 1 || found.rows < counts[dataset];
      }).sort(codePointCompare);
    });
  })();
  var OWN_COLUMNS = ["model", "preprocessing"];  /* params shown in their own column */
  rows.forEach(function (row) {
    row.paramsText = varying[row.dataset].filter(function (k) {
      return has(row.params, k) && OWN_COLUMNS.indexOf(k) < 0;
    })
      .map(function (k) { return k + "=" + format(row.params[k]); }).join(", ");
    var all = Object.keys(row.params).map(function (k) { return k + "=" + format(row.params[k]); });
    row.haystack = [row.dataset, row.folder, row.model, row.preprocessing, row.session, row.status,
                    row.date].concat(all).join(" ").toLowerCase();
  });

  var state = { text: "", metric: data.metric, partition: data.partition, min: null, max: null,
                sortKey: null, ascending: true, ticked: [] };
  var COLUMNS = [
    { key: "tick", name: "" },
    { key: "dataset", name: "dataset" },
    { key: "number", name: "#", numeric: true },
    { key: "folder", name: "pipeline" },
    { key: "model", name: "model" },
    { key: "preprocessing", name: "preprocessing" },
    { key: "paramsText", name: "params", title: "the params that vary among the dataset's pipelines" },
    { key: "score:train", numeric: true },
    { key: "score:val", numeric: true },
    { key: "score:test", numeric: true },
    { key: "session", name: "session" },
    { key: "date", name: "date" },
    { key: "status", name: "status" }
  ];
  var table = document.getElementById("explorer-table");
  var body = table.tBodies[0];
  var shownNote = document.getElementById("explorer-shown");
  var countNote = document.getElementById("explorer-count");
  var compareButton = document.getElementById("explorer-compare");
  var panel = document.getElementById("explorer-comparison");

  function score(row, partition) {
    var value = (row.scores[partition] || {})[state.metric];
    return typeof value === "number" ? value : null;
  }

  function value(row, key) {
    return key.indexOf("score:") === 0 ? score(row, key.slice(6)) : row[key];
  }

  function headerText(column) {
    return column.key.indexOf("score:") === 0 ? column.key.slice(6) + " " + state.metric : column.name;
  }

  function buildHead() {
    var tr = table.tHead.rows[0];
    tr.textContent = "";
    COLUMNS.forEach(function (column) {
      var th = element("th", headerText(column), column.numeric ? "num" : "");
      if (column.title) { th.title = column.title; }
      if (column.key !== "tick") {
        th.tabIndex = 0;
        th.setAttribute("data-key", column.key);
        if (state.sortKey === column.key) { th.setAttribute("aria-sort", state.ascending ? "ascending" : "descending"); }
        th.addEventListener("click", function () { sortBy(column.key); });
        th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sortBy(column.key); } });
      }
      tr.appendChild(th);
    });
  }

  function sortBy(key) {
    state.ascending = state.sortKey === key ? !state.ascending : true;
    state.sortKey = key;
    buildHead();
    render();
  }

  function matches(row, words) {
    for (var i = 0; i < words.length; i++) { if (row.haystack.indexOf(words[i]) < 0) { return false; } }
    if (state.min === null && state.max === null) { return true; }
    var v = score(row, state.partition);
    if (v === null) { return false; }
    return (state.min === null || v >= state.min) && (state.max === null || v <= state.max);
  }

  function compareValues(a, b, numeric) {  /* empty cells last, whichever the direction */
    var emptyA = a === null || a === undefined || a === "", emptyB = b === null || b === undefined || b === "";
    if (emptyA || emptyB) { return emptyA === emptyB ? 0 : (emptyA ? 1 : -1); }
    var d = numeric ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
    return state.ascending ? d : -d;
  }

  function render() {
    var words = state.text.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = rows.filter(function (row) { return matches(row, words); });
    if (state.sortKey !== null) {
      var column = COLUMNS.filter(function (c) { return c.key === state.sortKey; })[0];
      shown = shown.map(function (row, i) { return [row, i]; });
      shown.sort(function (x, y) {
        return compareValues(value(x[0], state.sortKey), value(y[0], state.sortKey), column.numeric) || x[1] - y[1];
      });
      shown = shown.map(function (pair) { return pair[0]; });
    }
    var matching = shown.length;
    shown = shown.slice(0, data.show);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (row) { fragment.appendChild(rowElement(row)); });
    body.textContent = "";
    body.appendChild(fragment);
    shownNote.textContent = matching > shown.length
      ? "showing the first " + shown.length + " of " + matching + " matching pipelines (of " + rows.length + "): narrow the filter or sort to see others"
      : matching + " of " + rows.length + " pipelines shown";
  }

  function rowElement(row) {
    var tr = element("tr", null, row.status === "completed" ? "" : "failed");
    if (state.ticked.indexOf(row.id) >= 0) { tr.classList.add("ticked"); }
    tr.setAttribute("data-reference", row.reference);
    COLUMNS.forEach(function (column) {
      var td = element("td", null, column.numeric ? "num" : "");
      if (column.key === "tick") {
        var box = element("input");
        box.type = "checkbox";
        box.checked = state.ticked.indexOf(row.id) >= 0;
        box.setAttribute("aria-label", "tick " + row.reference);
        box.addEventListener("change", function () { tick(row.id, box.checked, tr); });
        td.appendChild(box);
      } else if (column.key === "folder" && row.href) {
        var link = element("a", row.folder);
        link.href = row.href;
        td.appendChild(link);
      } else if (column.key === "paramsText") {
        td.textContent = row.paramsText;
        td.className = "params";
      } else {
        td.textContent = format(value(row, column.key));
      }
      tr.appendChild(td);
    });
    return tr;
  }

  function tick(id, on, tr) {
    tr.classList.toggle("ticked", on);
    var at = state.ticked.indexOf(id);
    if (on && at < 0) { state.ticked.push(id); }
    if (!on && at >= 0) { state.ticked.splice(at, 1); }
    updateCount();
  }

  function updateCount() {
    var n = state.ticked.length;
    compareButton.disabled = n < MIN_PIPELINES || n > MAX_PIPELINES;
    countNote.textContent = n + " ticked" + (compareButton.disabled ? " (tick " + MIN_PIPELINES + " to " + MAX_PIPELINES + " to compare)" : "");
  }

  /* ---- the comparison panel ---- */

  function shellWord(text) {
    return /^[A-Za-z0-9_.\/=-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\''") + "'";
  }

  function simpleTable(id, headers, cells) {
    var t = element("table", null, "plain");
    t.id = id;
    var head = t.createTHead().insertRow();
    headers.forEach(function (h) { head.appendChild(element("th", h)); });
    var tbody = t.createTBody();
    cells.forEach(function (line) {
      var tr = tbody.insertRow();
      line.forEach(function (cell) {
        var td = tr.insertCell();
        if (cell instanceof Node) { td.appendChild(cell); } else { td.textContent = format(cell); }
      });
    });
    var wrap = element("div", null, "table-wrap");
    wrap.appendChild(t);
    return wrap;
  }

  function showComparison() {
    var picked = state.ticked.map(function (id) { return byId[id]; });
    var result = compare(picked.map(function (r) { return r.reference; }));
    var names = picked.map(function (r, i) { return (i + 1) + ": " + r.reference; });
    panel.textContent = "";
    panel.appendChild(element("h2", "Comparison of " + picked.length + " pipelines"));
    panel.appendChild(simpleTable("explorer-compared", ["#", "pipeline", "session", "model", "preprocessing", "status"],
      picked.map(function (r, i) { return [i + 1, r.reference, r.session, r.model, r.preprocessing, r.status]; })));
    var differing = Object.keys(result.params_differing), same = Object.keys(result.params_same);
    panel.appendChild(element("h3", "params that differ (" + differing.length + "; " + same.length + " equal, folded below)"));
    if (differing.length) {
      panel.appendChild(simpleTable("explorer-params", ["param"].concat(names), differing.map(function (key) {
        return [key].concat(result.params_differing[key]);
      })));
    } else {
      panel.appendChild(element("p", "every param is equal", "note"));
    }
    if (same.length) {
      var details = element("details");
      details.appendChild(element("summary", same.length + " equal params"));
      details.appendChild(simpleTable("explorer-same", ["param", "value"], same.map(function (key) {
        return [key, result.params_same[key]];
      })));
      panel.appendChild(details);
    }
    panel.appendChild(element("h3", "scores (best of each row in bold)"));
    panel.appendChild(simpleTable("explorer-scores", ["partition", "metric", "better"].concat(names),
      result.scores.map(function (row) {
        return [row.partition, row.metric, { min: "lower", max: "higher" }[row.direction] || ""].concat(
          row.values.map(function (v, i) { return row.best.indexOf(i) >= 0 ? element("strong", format(v), "best") : v; }));
      })));
    var command = ["nirs4all", "compare"].concat(picked.map(function (r) { return shellWord(r.reference); }))
      .concat(["--html", "compare.html"]).join(" ");
    var hint = element("p", "Predictions overlaid (regression), from the workspace: ", "note");
    hint.appendChild(element("code", command));
    panel.appendChild(hint);
    panel.hidden = false;
    panel.scrollIntoView();
  }

  /* ---- controls ---- */

  function fillSelect(id, options, chosen) {
    var select = document.getElementById(id);
    options.forEach(function (option) {
      var item = element("option", option);
      item.value = option;
      item.selected = option === chosen;
      select.appendChild(item);
    });
    return select;
  }

  function number(input) {
    var text = input.value.trim();
    return text === "" || !isFinite(Number(text)) ? null : Number(text);
  }

  var text = document.getElementById("explorer-text");
  var low = document.getElementById("explorer-min"), high = document.getElementById("explorer-max");
  text.addEventListener("input", function () { state.text = text.value; render(); });
  fillSelect("explorer-metric", data.metrics, state.metric).addEventListener("change", function (event) {
    state.metric = event.target.value;
    buildHead();
    render();
  });
  fillSelect("explorer-partition", data.partitions, state.partition).addEventListener("change", function (event) {
    state.partition = event.target.value;
    render();
  });
  [low, high].forEach(function (input) {
    input.addEventListener("input", function () { state.min = number(low); state.max = number(high); render(); });
  });
  compareButton.addEventListener("click", showComparison);
  document.getElementById("explorer-clear").addEventListener("click", function () {
    state.ticked = [];
    updateCount();
    render();
    panel.hidden = true;
  });
  buildHead();
  render();
  updateCount();
  window.nirs4allExplorer = { compare: compare };
})();
