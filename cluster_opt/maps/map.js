/* cluster-opt maps: a run map drawn with Leaflet from a JSON data block (panels.js draws the synchronized
   scenario maps). Every string from data reaches the page as text (textContent), never as markup or code.
   Globals: coData(id), coRunMap(map, data), coKit (helpers for panels.js). */
(function () {
  'use strict';

  var SYMBOLS = ['circle', 'square', 'diamond', 'triangle'];

  /* The parsed JSON of a <script type="application/json"> block. */
  function data(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function add(parent, tag, className, text) {
    return parent.appendChild(el(tag, className, text));
  }

  function addText(parent, text) {
    return parent.appendChild(document.createTextNode(String(text)));
  }

  /* A name as HTML, for the Leaflet calls that insert names as markup (the layer control). */
  function asHtml(text) {
    var s = document.createElement('span');
    s.textContent = String(text);
    return s.innerHTML;
  }

  function fmt(x) {
    if (x === null || x === undefined || !isFinite(x)) { return '–'; }
    if (Math.abs(x) >= 100) { return Math.round(x).toLocaleString('en-US'); }
    return x.toLocaleString('en-US', {maximumSignificantDigits: 3});
  }

  function fixed(x, digits) {
    return (x === null || x === undefined) ? '–' : x.toFixed(digits);
  }

  function percent(x) {
    return Math.round(x * 100) + '%';
  }

  /* Packed shapes (see maps/shapes.py): rings of 1e-5 degree steps, the first point absolute. */
  function unpackRing(flat) {
    var out = new Array(flat.length / 2), x = 0, y = 0;
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i];
      y += flat[i + 1];
      out[i / 2] = [x / 1e5, y / 1e5];
    }
    return out;
  }

  function geometry(shape) {
    return {type: 'MultiPolygon', coordinates: shape.map(function (polygon) { return polygon.map(unpackRing); })};
  }

  function shapesLayer(shapes, options) {
    var features = shapes.map(function (s, i) { return {type: 'Feature', properties: {i: i}, geometry: geometry(s)}; });
    return L.geoJSON({type: 'FeatureCollection', features: features}, options);
  }

  function unitName(u, i) {
    var name = u.name[i] === null ? u.id[i] : u.name[i];
    return u.state[i] === null ? name : name + ', ' + u.state[i];
  }

  function badge(label, colour, className) {
    var e = el('div', className, label);
    e.style.background = colour;
    return e;
  }

  /* A point symbol; hollow: an outline of the shape (e.g. a facility that exists already). */
  function symbol(kind, colour, hollow) {
    var e = el('div', 'co-symbol co-symbol-' + (SYMBOLS.indexOf(kind) >= 0 ? kind : 'circle'));
    e.style.background = colour;
    if (hollow) { add(e, 'div', 'co-hole'); }
    return e;
  }

  function swatch(colour) {
    var e = el('span', 'co-swatch');
    e.style.background = colour;
    return e;
  }

  function control(position, build) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var box = build();
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    return c;
  }

  /* ---- the run map ---- */

  function unitPopup(d, solution, i) {
    var u = d.units, box = el('div');
    add(box, 'b', null, unitName(u, i));
    addText(box, ' ');
    add(box, 'small', null, u.id[i]);
    add(box, 'br');
    addText(box, 'score ');
    add(box, 'b', null, fixed(u.score[i], 4));
    addText(box, ', rank ' + u.rank[i] + ' of ' + u.id.length + '; ' + unitRole(solution, i));
    if (d.fills && d.fills.length) {
      add(box, 'br');
      addText(box, 'site score: ' + d.fills.map(function (f) { return f.label + ' ' + fixed(f.score[i], 3); }).join(', '));
    }
    var table = add(box, 'table', 'co-breakdown'), head = add(table, 'tr');
    ['criterion', 'raw', 'normalized', 'contribution'].forEach(function (h) { add(head, 'th', null, h); });
    d.criteria.forEach(function (c) {
      var row = add(table, 'tr');
      add(row, 'td', null, c.label);
      add(row, 'td', null, fmt(c.raw[i]));
      add(row, 'td', null, fixed(c.normalized[i], 3));
      add(row, 'td', null, fixed(c.contribution[i], 3));
    });
    return box;
  }

  /* What a unit is in a solution: its cluster and role, or (a chain) the facility it hosts or serves. */
  function unitRole(solution, i) {
    if (solution.unit_role) { return solution.unit_role[i] === null ? 'serves no facility' : solution.unit_role[i]; }
    var k = solution.member_of[i];
    if (k < 0) { return 'not in a cluster'; }
    var c = solution.clusters[k];
    return 'cluster ' + c.number + ' (' + (c.hub === i ? 'hub' : 'member') + ')';
  }

  function hubPopup(d, c) {
    var u = d.units, box = el('div');
    add(box, 'b', null, 'Cluster ' + c.number);
    addText(box, ': hub ' + unitName(u, c.hub) + ' (' + u.id[c.hub] + ')');
    add(box, 'br');
    addText(box, c.members + ' member units, cluster score ' + fixed(c.score, 3));
    c.totals.forEach(function (t) {
      add(box, 'br');
      addText(box, t.name + ': ' + fmt(t.total) + ' (required ' + fmt(t.required) + ')');
    });
    return box;
  }

  function drawCluster(d, c, group) {
    var u = d.units, feature = {type: 'Feature', properties: {}, geometry: geometry(c.shape)};
    // A white halo keeps the outline visible on dark classes; unfilled, so clicks reach the units.
    L.geoJSON(feature, {interactive: false, style: {color: '#fff', weight: 7, fill: false, opacity: 0.9}}).addTo(group);
    L.geoJSON(feature, {style: {color: c.colour, weight: 3, fill: false}})
      .bindTooltip(el('span', null, 'Cluster ' + c.number + ': ' + c.members + ' units around ' + unitName(u, c.hub)), {sticky: true})
      .addTo(group);
    L.marker([c.lat, c.lon], {icon: L.divIcon({html: badge(c.number, c.colour, 'co-hub'), className: 'co-hub-icon', iconSize: [26, 26], iconAnchor: [13, 13]})})
      .bindTooltip(el('span', null, 'Cluster ' + c.number + ' hub: ' + unitName(u, c.hub)))
      .bindPopup(function () { return hubPopup(d, c); }, {maxWidth: 360})
      .addTo(group);
  }

  /* A co-location cluster: a circle of its radius around its centre, labelled at its north edge. */
  function drawRing(r, group) {
    L.circle([r.lat, r.lon], {radius: r.radius_km * 1000, color: r.colour, weight: 2.5, dashArray: '10 6', fill: false})
      .bindTooltip(el('span', null, r.tip), {sticky: true})
      .addTo(group);
    L.marker([r.lat + r.radius_km / 111.195, r.lon], {interactive: false, keyboard: false,
      icon: L.divIcon({html: badge(r.label, r.colour, 'co-ring-label'), className: 'co-ring-icon', iconSize: [0, 0]})}).addTo(group);
  }

  function pointPopup(g, j) {
    var box = el('div');
    add(box, 'b', null, g.name[j] === null ? g.label : g.name[j]);
    add(box, 'br');
    add(box, 'small', null, g.label);
    if (g.fields.length) {
      var table = add(box, 'table', 'co-breakdown');
      g.fields.forEach(function (f) {
        var row = add(table, 'tr'), v = f.values[j];
        add(row, 'td', null, f.label);
        add(row, 'td', null, typeof v === 'number' ? fmt(v) : (v === null ? '–' : v));
      });
    }
    return box;
  }

  /* Points of one kind (e.g. facilities of one type): their own colour and symbol. */
  function pointGroup(g) {
    var layer = L.featureGroup();
    g.lat.forEach(function (lat, j) {
      var ll = [lat, g.lon[j]], hollow = g.hollow ? g.hollow[j] : false;
      var style = hollow ? {radius: 6, color: g.colour, weight: 2.5, fillColor: '#fff', fillOpacity: 0.9}
        : {radius: 6, color: '#fff', weight: 1.5, fillColor: g.colour, fillOpacity: 0.95};
      var m = g.symbol === 'circle'
        ? L.circleMarker(ll, style)
        : L.marker(ll, {icon: L.divIcon({html: symbol(g.symbol, g.colour, hollow), className: 'co-symbol-icon', iconSize: [14, 14], iconAnchor: [7, 7]})});
      m.bindTooltip(el('span', null, g.name[j] === null ? g.label : g.name[j]));
      m.bindPopup(function () { return pointPopup(g, j); }, {maxWidth: 360});
      layer.addLayer(m);
    });
    return layer;
  }

  /* Lines of one kind (e.g. supply links between two facility types), each with its tooltip. */
  function linkGroup(g) {
    var layer = L.featureGroup();
    g.from_lat.forEach(function (lat, j) {
      var dashed = Array.isArray(g.dashed) ? g.dashed[j] : g.dashed;
      L.polyline([[lat, g.from_lon[j]], [g.to_lat[j], g.to_lon[j]]], {color: g.colour, weight: 2.5, opacity: 0.85, dashArray: dashed ? '6 4' : null})
        .bindTooltip(el('span', null, g.tip[j] === null ? g.label : g.tip[j]), {sticky: true})
        .addTo(layer);
    });
    return layer;
  }

  /* An input layer: circles sized by value, made when first switched on. */
  function inputLayer(ly) {
    var layer = L.featureGroup();
    layer.once('add', function () {
      ly.lat.forEach(function (lat, j) {
        var v = ly.value ? ly.value[j] : null;
        var r = ly.value ? 3 + 12 * Math.sqrt(Math.max(v || 0, 0) / ly.vmax) : 4;
        var name = ly.name[j] === null ? '' : ly.name[j];
        L.circleMarker([lat, ly.lon[j]], {radius: r, color: ly.colour, weight: 1, fill: true, fillColor: ly.colour, fillOpacity: 0.6})
          .bindTooltip(el('span', null, ly.value_name ? name + ': ' + ly.value_name + ' ' + fmt(v) : name))
          .addTo(layer);
      });
    });
    return layer;
  }

  /* The classes of the fill shown, written into box. */
  function scoreLegend(box, classes) {
    box.textContent = '';
    add(box, 'b', null, classes.title);
    add(box, 'br');
    add(box, 'small', null, classes.note);
    classes.colours.forEach(function (c, i) {
      var row = add(box, 'div');
      row.appendChild(swatch(c));
      addText(row, fixed(classes.breaks[i], 3) + ' – ' + fixed(classes.breaks[i + 1], 3));
    });
  }

  function statusText(s) {
    var status = s.proven_optimal ? 'proven optimal'
      : 'best found in the time limit, NOT proven optimal' + (s.gap === null ? '' : ' (gap ' + (s.gap * 100).toFixed(2) + '%)');
    var parts = (s.link_cost === undefined || s.link_cost === null) ? ''
      : ' = site scores ' + fixed(s.site_score, 4) + ' − link costs ' + fixed(s.link_cost, 4);
    return 'solver ' + s.solver + ': ' + status + '; objective ' + fixed(s.objective, 4) + parts;
  }

  function fillLegend(box, d, solution) {
    box.textContent = '';
    solution.clusters.forEach(function (c) {
      var row = add(box, 'div');
      row.appendChild(swatch(c.colour));
      addText(row, 'Cluster ' + c.number + ': ' + unitName(d.units, c.hub));
    });
    (solution.rings || []).forEach(function (r) {
      var row = add(box, 'div'), line = add(row, 'span', 'co-line');
      line.style.borderTopColor = r.colour;
      line.style.borderTopStyle = 'dashed';
      addText(row, r.tip);
    });
    solution.groups.forEach(function (g) {
      var row = add(box, 'div', 'co-legend-row'), hollow = g.hollow || [];
      if (hollow.indexOf(true) < 0 || hollow.indexOf(false) >= 0) { row.appendChild(symbol(g.symbol, g.colour, false)); }
      if (hollow.indexOf(true) >= 0) { row.appendChild(symbol(g.symbol, g.colour, true)); }
      addText(row, g.legend || g.label);
    });
    solution.links.forEach(function (g) {
      var row = add(box, 'div'), line = add(row, 'span', 'co-line');
      var dashed = Array.isArray(g.dashed) ? (g.dashed.length > 0 && g.dashed.indexOf(false) < 0) : g.dashed;
      line.style.borderTopColor = g.colour;
      line.style.borderTopStyle = dashed ? 'dashed' : 'solid';
      addText(row, g.label);
    });
  }

  /* Draw a run (a payload of maps/payload.py) into a Leaflet map. The returned view's
     update(solution) redraws only what a new solution changes: clusters, hubs, rings, point groups,
     links and unit outlines; setFill(k) fills the units with fills[k] (0: the scenario score). */
  function runMap(map, d) {
    var u = d.units, view = {map: map, data: d, solution: d.solution};
    var fills = [{label: d.classes.title, score: u.score, 'class': u['class'], classes: d.classes}].concat(d.fills || []);
    view.fill = fills[0];
    var switcher = L.control.layers({}, {}, {collapsed: false});  // names go in as HTML: asHtml
    map.fitBounds(d.bounds);
    if (d.tiles) {
      map.eachLayer(function (l) { if (l instanceof L.TileLayer) { switcher.addBaseLayer(l, asHtml(d.tiles)); } });
    }
    shapesLayer(d.basemap, {interactive: false, style: {color: '#555', weight: 1.2, fill: true, fillColor: '#f4f1ea', fillOpacity: 1}}).addTo(map);

    function unitStyle(f) {
      var i = f.properties.i, fl = view.fill, outline = view.solution.unit_outline;
      var s = {fillColor: fl.classes.colours[fl['class'][i]], color: '#666', weight: 0.3, opacity: 1, fillOpacity: 0.75};
      if (outline && outline[i] !== null) { s.color = outline[i]; s.weight = 2.5; }
      return s;
    }
    function unitTip(i) {
      var fl = view.fill;
      return unitName(u, i) + ': ' + (fl === fills[0] ? 'score ' + fixed(u.score[i], 3) + ', rank ' + u.rank[i]
        : fl.classes.title + ' ' + fixed(fl.score[i], 3));
    }
    var units = shapesLayer(u.shape, {
      style: unitStyle,
      onEachFeature: function (f, layer) {
        var i = f.properties.i;
        layer.bindTooltip(function () { return el('span', null, unitTip(i)); }, {sticky: true});
        layer.bindPopup(function () { return unitPopup(d, view.solution, i); }, {maxWidth: 420});
      }
    }).addTo(map);
    units.on('mouseover', function (e) { e.layer.setStyle({weight: 2, color: '#000'}); });
    units.on('mouseout', function (e) { units.resetStyle(e.layer); });
    switcher.addOverlay(units, 'Score');
    if (d.outlines.length) {
      var outlines = shapesLayer(d.outlines, {interactive: false, style: {color: '#555', weight: 0.6, opacity: 0.7, fill: false}}).addTo(map);
      switcher.addOverlay(outlines, 'County outlines');
    }
    var classesBox;
    control('topleft', function () {
      var box = el('div', 'co-score-legend');
      if (fills.length > 1) {
        var pick = add(box, 'select', 'co-fill');
        fills.forEach(function (fl, k) { add(pick, 'option', null, fl.classes.title).value = String(k); });
        pick.addEventListener('change', function () { setFill(Number(pick.value)); });
      }
      classesBox = add(box, 'div');
      scoreLegend(classesBox, view.fill.classes);
      return box;
    }).addTo(map);
    function setFill(k) {
      view.fill = fills[k];
      units.setStyle(unitStyle);
      scoreLegend(classesBox, view.fill.classes);
    }

    var clusters = L.featureGroup().addTo(map);
    switcher.addOverlay(clusters, 'Clusters');
    var status, legend;
    control('bottomleft', function () {
      var box = el('div', 'co-title'), t = d.title;
      add(box, 'b', null, t.name);
      if (t.description) { addText(box, ' — ' + t.description); }
      add(box, 'br');
      var small = add(box, 'small');
      addText(small, 'Weights: ' + t.weights.map(function (w) { return w.label + ' ' + percent(w.share); }).join(', '));
      add(small, 'br');
      (t.lines || []).forEach(function (line) {
        addText(small, line);
        add(small, 'br');
      });
      if (t.selection) { addText(small, 'Selection: ' + t.selection + '; '); }
      status = add(small, 'span');
      legend = add(box, 'div', 'co-legend');
      return box;
    }).addTo(map);

    d.layers.forEach(function (ly) {
      switcher.addOverlay(inputLayer(ly), asHtml('Layer: ' + ly.label + ' (' + ly.count.toLocaleString('en-US') + ')'));
    });

    var extras = [];
    function update(solution) {
      view.solution = solution;
      units.setStyle(unitStyle);
      if (solution.unit_outline) {  // outlines above their neighbours' borders
        units.eachLayer(function (l) { if (solution.unit_outline[l.feature.properties.i] !== null) { l.bringToFront(); } });
      }
      clusters.clearLayers();
      solution.clusters.forEach(function (c) { drawCluster(d, c, clusters); });
      (solution.rings || []).forEach(function (r) { drawRing(r, clusters); });
      extras.forEach(function (l) { switcher.removeLayer(l); map.removeLayer(l); });
      view.links = solution.links.map(linkGroup);
      view.groups = solution.groups.map(pointGroup);
      extras = view.links.concat(view.groups);
      solution.links.concat(solution.groups).forEach(function (g, j) { switcher.addOverlay(g.hidden ? extras[j] : extras[j].addTo(map), asHtml(g.label)); });
      status.textContent = statusText(solution.status);
      fillLegend(legend, d, solution);
      map.closePopup();
    }
    update(d.solution);
    switcher.addTo(map);
    view.units = units;
    view.clusters = clusters;
    view.control = switcher;
    view.update = update;
    view.setFill = setFill;
    return view;
  }

  window.coData = data;
  window.coRunMap = runMap;
  window.coKit = {el: el, badge: badge, shapesLayer: shapesLayer};  // for panels.js
}());
