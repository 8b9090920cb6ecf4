/* cluster-opt maps: a run map, or several synchronized scenario maps, drawn with Leaflet from JSON
   data blocks. Every string from data reaches the page as text (textContent), never as markup or code.
   Globals: coData(id), coRunMap(map, data), coDrawPanels(data), coSync(), coMaps. */
(function () {
  'use strict';

  var SYMBOLS = ['circle', 'square', 'diamond', 'triangle'];
  var maps = [];
  window.coMaps = maps;

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

  function symbol(kind, colour) {
    var e = el('div', 'co-symbol co-symbol-' + (SYMBOLS.indexOf(kind) >= 0 ? kind : 'circle'));
    e.style.background = colour;
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
    var k = solution.member_of[i], where = 'not in a cluster';
    if (k >= 0) {
      var c = solution.clusters[k];
      where = 'cluster ' + c.number + ' (' + (c.hub === i ? 'hub' : 'member') + ')';
    }
    addText(box, ', rank ' + u.rank[i] + ' of ' + u.id.length + '; ' + where);
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
      var ll = [lat, g.lon[j]];
      var m = g.symbol === 'circle'
        ? L.circleMarker(ll, {radius: 6, color: '#fff', weight: 1.5, fillColor: g.colour, fillOpacity: 0.95})
        : L.marker(ll, {icon: L.divIcon({html: symbol(g.symbol, g.colour), className: 'co-symbol-icon', iconSize: [14, 14], iconAnchor: [7, 7]})});
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
      L.polyline([[lat, g.from_lon[j]], [g.to_lat[j], g.to_lon[j]]], {color: g.colour, weight: 2.5, opacity: 0.85, dashArray: g.dashed ? '6 4' : null})
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

  function scoreLegend(classes) {
    var box = el('div', 'co-score-legend');
    add(box, 'b', null, classes.title);
    add(box, 'br');
    add(box, 'small', null, classes.note);
    classes.colours.forEach(function (c, i) {
      var row = add(box, 'div');
      row.appendChild(swatch(c));
      addText(row, fixed(classes.breaks[i], 3) + ' – ' + fixed(classes.breaks[i + 1], 3));
    });
    return box;
  }

  function statusText(s) {
    var status = s.proven_optimal ? 'proven optimal'
      : 'best found in the time limit, NOT proven optimal' + (s.gap === null ? '' : ' (gap ' + (s.gap * 100).toFixed(2) + '%)');
    return 'solver ' + s.solver + ': ' + status + '; objective ' + fixed(s.objective, 4);
  }

  function fillLegend(box, d, solution) {
    box.textContent = '';
    solution.clusters.forEach(function (c) {
      var row = add(box, 'div');
      row.appendChild(swatch(c.colour));
      addText(row, 'Cluster ' + c.number + ': ' + unitName(d.units, c.hub));
    });
    solution.groups.forEach(function (g) {
      var row = add(box, 'div', 'co-legend-row');
      row.appendChild(symbol(g.symbol, g.colour));
      addText(row, g.label);
    });
    solution.links.forEach(function (g) {
      var row = add(box, 'div'), line = add(row, 'span', 'co-line');
      line.style.borderTopColor = g.colour;
      line.style.borderTopStyle = g.dashed ? 'dashed' : 'solid';
      addText(row, g.label);
    });
  }

  /* Draw a run (a payload of maps/payload.py) into a Leaflet map. The returned view's
     update(solution) redraws only what a new solution changes: clusters, hubs, point groups, links. */
  function runMap(map, d) {
    var u = d.units, view = {map: map, data: d, solution: d.solution};
    var switcher = L.control.layers({}, {}, {collapsed: false});  // names go in as HTML: asHtml
    map.fitBounds(d.bounds);
    if (d.tiles) {
      map.eachLayer(function (l) { if (l instanceof L.TileLayer) { switcher.addBaseLayer(l, asHtml(d.tiles)); } });
    }
    shapesLayer(d.basemap, {interactive: false, style: {color: '#555', weight: 1.2, fill: true, fillColor: '#f4f1ea', fillOpacity: 1}}).addTo(map);

    var units = shapesLayer(u.shape, {
      style: function (f) {
        return {fillColor: d.classes.colours[u['class'][f.properties.i]], color: '#666', weight: 0.3, fillOpacity: 0.75};
      },
      onEachFeature: function (f, layer) {
        var i = f.properties.i;
        layer.bindTooltip(function () { return el('span', null, unitName(u, i) + ': score ' + fixed(u.score[i], 3) + ', rank ' + u.rank[i]); }, {sticky: true});
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
    control('topleft', function () { return scoreLegend(d.classes); }).addTo(map);

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
      addText(small, 'Selection: ' + t.selection + '; ');
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
      clusters.clearLayers();
      solution.clusters.forEach(function (c) { drawCluster(d, c, clusters); });
      extras.forEach(function (l) { switcher.removeLayer(l); map.removeLayer(l); });
      extras = solution.links.map(linkGroup).concat(solution.groups.map(pointGroup));
      solution.links.concat(solution.groups).forEach(function (g, j) { switcher.addOverlay(extras[j].addTo(map), asHtml(g.label)); });
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
    return view;
  }

  /* ---- synchronized scenario maps (compare and sweep pages) ---- */

  function panelMap(d, p) {
    var m = L.map(p.id, {preferCanvas: true, zoomSnap: 0.25});
    shapesLayer(d.basemap, {interactive: false, style: {color: '#555', weight: 1, fillColor: '#f4f1ea', fillOpacity: 1}}).addTo(m);
    shapesLayer(d.units, {
      style: function (f) {
        var i = f.properties.i;
        return {color: p.outline[i] || '#777', weight: p.outline[i] ? 2 : 0.3, fillColor: p.fill[i], fillOpacity: 0.75};
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(function () { return el('span', null, p.tip[f.properties.i]); }); }
    }).addTo(m);
    p.hubs.forEach(function (h) {
      L.marker([h.lat, h.lon], {icon: L.divIcon({html: badge(h.label, h.colour, 'co-hub'), className: 'co-hub-icon', iconSize: [22, 22], iconAnchor: [11, 11]})})
        .bindTooltip(el('span', null, h.tip)).addTo(m);
    });
    m.fitBounds(d.bounds);
    maps.push(m);
    return m;
  }

  /* Every panel of a page's data (maps/pages.py map_panels), moving together. */
  function drawPanels(d) {
    d.panels.forEach(function (p) { panelMap(d, p); });
    sync();
  }

  function sync() {
    var busy = false;
    maps.forEach(function (m) {
      m.on('move moveend', function () {
        if (busy) { return; }
        busy = true;
        maps.forEach(function (o) { if (o !== m) { o.setView(m.getCenter(), m.getZoom(), {animate: false}); } });
        busy = false;
      });
    });
  }

  window.coData = data;
  window.coRunMap = runMap;
  window.coDrawPanels = drawPanels;
  window.coSync = sync;
}());
