/* cluster-opt maps: several synchronized scenario maps (compare and sweep pages), drawn with Leaflet from
   a JSON data block with the helpers of map.js. Every string from data reaches the page as text.
   Globals: coDrawPanels(data), coSync(), coMaps. */
(function () {
  'use strict';

  var kit = window.coKit, el = kit.el, badge = kit.badge, shapesLayer = kit.shapesLayer;
  var maps = [];
  window.coMaps = maps;

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

  /* Every map in coMaps moves with the others; a map is hooked once, however often this is called. */
  var busy = false;
  function sync() {
    maps.forEach(function (m) {
      if (m._coSynced) { return; }
      m._coSynced = true;
      m.on('move moveend', function () {
        if (busy) { return; }
        busy = true;
        maps.forEach(function (o) { if (o !== m) { o.setView(m.getCenter(), m.getZoom(), {animate: false}); } });
        busy = false;
      });
    });
  }

  window.coDrawPanels = drawPanels;
  window.coSync = sync;
}());
