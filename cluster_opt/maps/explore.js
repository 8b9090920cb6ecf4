/* cluster-opt explore: the controls around the run map. Each change of a weight or a rule is sent to the
   local API (POST /api/solve); the exact optimum that comes back is drawn by map.js's update(). A newer
   change cancels the request still running. Every string from data reaches the page as text.
   Globals: coExplore (the state, for scripts and tests). */
(function () {
  'use strict';

  var kit = window.coKit, el = kit.el;
  var d = coData('co-run-data'), x = coData('co-explore-data');
  var side = document.getElementById('co-side'), tables = document.getElementById('co-tables');
  var pinsBox = document.getElementById('co-pins');
  var map = L.map('co-map', {preferCanvas: true, zoomSnap: 0.25});
  var view = coRunMap(map, d);
  window.coMaps.push(map);
  var MAX_PINS = 4;
  var state = {
    weights: {}, selection: x.selection ? JSON.parse(JSON.stringify(x.selection)) : null,
    client: Math.random().toString(36).slice(2) + Date.now().toString(36),
    answer: x.answer, solves: 0, pending: null, clickMode: 'details', pins: []
  };
  x.criteria.forEach(function (c) { state.weights[c.key] = c.weight; });
  window.coExplore = state;

  function add(parent, tag, className, text) { return parent.appendChild(el(tag, className, text)); }
  function fmt(v, digits) { return (v === null || v === undefined) ? '–' : Number(v).toFixed(digits); }
  function unitIndex() {
    var pos = {};
    d.units.id.forEach(function (id, i) { pos[id] = i; });
    return pos;
  }
  var byId = unitIndex();
  function unitLabel(id) {
    var i = byId[id];
    return i === undefined ? id : d.units.name[i] + (d.units.state[i] ? ', ' + d.units.state[i] : '') + ' (' + id + ')';
  }

  /* ---- the side panel ---- */
  add(side, 'h1', null, x.name);
  if (x.description) { add(side, 'div', 'co-ids', x.description); }

  add(side, 'h2', null, 'Weights');
  var shares = {};
  x.criteria.forEach(function (c) {
    var row = add(side, 'label', 'co-row');
    add(row, 'span', null, c.label);
    var input = add(row, 'input');
    input.type = 'range'; input.min = '0'; input.max = '1'; input.step = '0.01'; input.value = String(c.weight);
    input.dataset.criterion = c.key;
    input.setAttribute('aria-label', 'weight of ' + c.label);
    shares[c.key] = add(row, 'span', 'co-share');
    input.addEventListener('input', function () { state.weights[c.key] = Number(input.value); showShares(); schedule(); });
  });
  function showShares() {
    var total = 0;
    Object.keys(state.weights).forEach(function (k) { total += state.weights[k]; });
    Object.keys(shares).forEach(function (k) {
      shares[k].textContent = total > 0 ? Math.round(100 * state.weights[k] / total) + '%' : '–';
    });
  }
  showShares();

  var idsBox = {};
  if (state.selection) {
    add(side, 'h2', null, 'Rules');
    var rules = [['clusters', 'Clusters', 1, 1], ['cluster_radius_km', 'Cluster radius (km)', 0, 10],
                 ['min_spacing_km', 'Hubs at least (km) apart', 0, 10], ['max_per_state', 'At most per state (blank: no limit)', 1, 1]];
    rules.forEach(function (r) { ruleInput(r[0], r[1], r[2], r[3], state.selection[r[0]], function (v) { state.selection[r[0]] = v; }); });
    Object.keys(state.selection.requirements || {}).forEach(function (name) {
      ruleInput('requirements.' + name, name + ' per cluster, at least', 0, 1, state.selection.requirements[name], function (v) {
        state.selection.requirements[name] = v === null ? 0 : v;
      });
    });
    var mode = add(add(side, 'label', 'co-rule'), 'span', null, 'A click on a unit');
    var pick = mode.parentNode.appendChild(el('select'));
    pick.className = 'co-click-mode';
    [['details', 'shows its details'], ['include', 'includes it (must host)'], ['exclude', 'excludes it (may not host)']].forEach(function (o) {
      add(pick, 'option', null, o[1]).value = o[0];
    });
    pick.addEventListener('change', function () { state.clickMode = pick.value; });
    ['include', 'exclude'].forEach(function (k) {
      var box = add(side, 'div', 'co-ids');
      idsBox[k] = box;
    });
    showIds();
  }
  function ruleInput(key, label, min, step, value, set) {
    var row = add(side, 'label', 'co-rule');
    add(row, 'span', null, label);
    var input = add(row, 'input');
    input.type = 'number'; input.min = String(min); input.step = String(step);
    input.value = value === null || value === undefined ? '' : String(value);
    input.dataset.rule = key;
    input.addEventListener('change', function () {
      set(input.value === '' ? null : Number(input.value));
      schedule();
    });
  }
  function showIds() {
    ['include', 'exclude'].forEach(function (k) {
      var box = idsBox[k];
      box.textContent = '';
      var list = state.selection[k] || [];
      add(box, 'b', null, (k === 'include' ? 'Must host' : 'May not host') + ': ');
      if (!list.length) { box.appendChild(document.createTextNode('none')); }
      list.forEach(function (id) {
        var b = add(box, 'button', null, unitLabel(id) + ' ×');
        b.title = 'remove';
        b.addEventListener('click', function () { toggle(k, id); });
      });
    });
  }
  function toggle(kind, id) {
    var other = kind === 'include' ? 'exclude' : 'include';
    var list = state.selection[kind], at = list.indexOf(id);
    if (at >= 0) { list.splice(at, 1); } else { list.push(id); }
    var o = state.selection[other].indexOf(id);
    if (o >= 0) { state.selection[other].splice(o, 1); }
    showIds();
    schedule();
  }
  view.units.on('click', function (e) {
    if (!state.selection || state.clickMode === 'details') { return; }
    var i = e.layer.feature.properties.i;
    setTimeout(function () { map.closePopup(); }, 0);
    toggle(state.clickMode, d.units.id[i]);
  });

  add(side, 'h2', null, 'Answer');
  var status = add(side, 'div', 'co-status');
  var busy = add(side, 'div', 'co-busy');
  var breakdownBox = add(side, 'div');
  var changesBox = add(side, 'div');
  var actions = add(side, 'div', 'co-actions');
  var pinButton = add(actions, 'button', null, 'Pin this scenario');
  pinButton.addEventListener('click', function () { pin(state.answer); });
  var yaml = add(actions, 'a', null, 'Download YAML');
  yaml.href = '/api/download/config.yaml';
  yaml.setAttribute('download', '');
  var zip = add(actions, 'a', null, 'Download run (zip)');
  zip.href = '/api/download/run.zip';
  zip.setAttribute('download', '');

  /* ---- solving ---- */
  var timer = null, ticker = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(solve, 120);
  }
  function request() {
    var body = {weights: state.weights, client: state.client};
    if (state.selection) { body.selection = state.selection; }
    return body;
  }
  function solve() {
    if (state.pending) { state.pending.abort(); }
    var ctrl = new AbortController(), started = Date.now();
    state.pending = ctrl;
    clearInterval(ticker);
    busy.textContent = 'solving…';
    ticker = setInterval(function () { busy.textContent = 'solving… ' + ((Date.now() - started) / 1000).toFixed(1) + ' s'; }, 200);
    fetch('/api/solve', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(request()), signal: ctrl.signal})
      .then(function (r) { return r.json().then(function (j) { return {code: r.status, body: j}; }); })
      .then(function (r) {
        if (state.pending !== ctrl || r.code === 409) { return; }
        finish();
        if (r.code !== 200) { showError(r.body.error || ('HTTP ' + r.code)); return; }
        show(r.body);
      })
      .catch(function (e) {
        if (e.name === 'AbortError' || state.pending !== ctrl) { return; }
        finish();
        showError('the local server did not answer: ' + e.message);
      });
  }
  function finish() {
    clearInterval(ticker);
    busy.textContent = '';
    state.pending = null;
  }
  function showError(message) {
    status.className = 'co-status co-bad';
    status.textContent = message;
  }

  function show(a) {
    state.solves += 1;
    if (a.status === 'infeasible') {
      showError('No selection meets the rules: ' + a.message);
      return;
    }
    state.answer = a;
    refill(a);
    view.update(a.solution);
    status.className = 'co-status' + (a.checked ? '' : ' co-bad');
    status.textContent = '';
    add(status, 'b', null, a.status === 'optimal' ? 'Proven optimal' : 'Not proven optimal (' + a.status + ')');
    status.appendChild(document.createTextNode(', objective ' + fmt(a.objective, 4) + (a.gap === null ? '' : ', gap ' + (100 * a.gap).toFixed(3) + '%') +
      '; independent check ' + (a.checked ? 'passed' : 'FAILED') + '; ' + (1000 * a.seconds).toFixed(0) + ' ms'));
    breakdown(a);
    changes(a);
    table(a);
  }
  /* The units' scores, ranks, classes and contributions with the answer's weights (in place: map.js reads them). */
  function refill(a) {
    var u = d.units, f = a.scores;
    for (var i = 0; i < u.score.length; i++) { u.score[i] = f.score[i]; u.rank[i] = f.rank[i]; u['class'][i] = f['class'][i]; }
    d.classes.breaks = f.classes.breaks;
    d.classes.colours = f.classes.colours;
    d.criteria.forEach(function (c) {
      var w = a.weights[c.key] || 0;
      c.contribution = c.normalized.map(function (v) { return v === null ? null : w * v; });
    });
    view.setFill(0);
  }
  function breakdown(a) {
    breakdownBox.textContent = '';
    var keys = Object.keys(a.breakdown || {});
    if (!keys.length) { return; }
    var t = add(breakdownBox, 'table', 'co-table'), head = add(t, 'tr');
    add(head, 'th', null, 'criterion'); add(head, 'th', null, 'weight'); add(head, 'th', null, 'in the objective');
    keys.forEach(function (k) {
      var row = add(t, 'tr'), c = x.criteria.filter(function (cc) { return cc.key === k; })[0];
      add(row, 'td', null, c ? c.label : k);
      add(row, 'td', null, Math.round(100 * (a.weights[k] || 0)) + '%');
      add(row, 'td', null, fmt(a.breakdown[k], 4));
    });
  }
  function changes(a) {
    changesBox.textContent = '';
    if (!a.changed.in.length && !a.changed.out.length) { add(changesBox, 'div', 'co-ids', 'The same sites as before.'); return; }
    a.changed.in.forEach(function (s) { add(changesBox, 'div', 'co-ids co-in', '+ ' + s); });
    a.changed.out.forEach(function (s) { add(changesBox, 'div', 'co-ids co-out', '− ' + s); });
  }
  function table(a) {
    tables.textContent = '';
    var rows = a.clusters.length ? a.clusters : (a.facilities || []).filter(function (f) { return f.status === 'new'; });
    if (!rows.length) { return; }
    var cols = a.clusters.length ? ['cluster', 'hub_name', 'hub_state', 'members', 'hub_score', 'score'] : ['facility', 'type', 'name', 'state', 'site_score', 'supplied_by'];
    Object.keys(rows[0]).forEach(function (k) { if (/_total$/.test(k)) { cols.push(k); } });
    var t = add(tables, 'table', 'co-table'), head = add(t, 'tr');
    cols.forEach(function (c) { add(head, 'th', null, c.replace(/_/g, ' ')); });
    rows.forEach(function (r) {
      var row = add(t, 'tr');
      cols.forEach(function (c) {
        var v = r[c];
        var text = v === null || v === undefined ? '' : typeof v !== 'number' ? String(v)
          : (Number.isInteger(v) || Math.abs(v) >= 100) ? Math.round(v).toLocaleString('en-US') : v.toFixed(3);
        add(row, 'td', null, text);
      });
    });
  }

  /* ---- pinned scenarios, side by side and moving together ---- */
  function pin(a) {
    if (!a || state.pins.length >= MAX_PINS) {
      busy.textContent = 'at most ' + MAX_PINS + ' pinned scenarios: unpin one first';
      return;
    }
    var box = add(pinsBox, 'div', 'co-pin');
    var head = add(box, 'div', 'co-pin-head');
    var weights = Object.keys(a.weights).map(function (k) { return k + ' ' + Math.round(100 * a.weights[k]) + '%'; }).join(', ');
    add(head, 'span', null, 'Objective ' + fmt(a.objective, 4) + ' (' + weights + ')');
    var close = add(head, 'button', null, 'unpin');
    var holder = add(box, 'div', 'co-pin-map');
    var m = L.map(holder, {preferCanvas: true, zoomSnap: 0.25});
    // Its own copy of what a weighting changes (scores, classes); the shapes are shared.
    var units = Object.assign({}, d.units, {score: a.scores.score, rank: a.scores.rank, 'class': a.scores['class']});
    coRunMap(m, Object.assign({}, d, {solution: a.solution, units: units, classes: a.scores.classes}));
    m.setView(map.getCenter(), map.getZoom(), {animate: false});
    window.coMaps.push(m);
    window.coSync();
    var entry = {answer: a, map: m, box: box};
    state.pins.push(entry);
    close.addEventListener('click', function () {
      state.pins.splice(state.pins.indexOf(entry), 1);
      window.coMaps.splice(window.coMaps.indexOf(m), 1);
      m.remove();
      pinsBox.removeChild(box);
    });
  }

  window.coSync();
  show(x.answer);
}());
