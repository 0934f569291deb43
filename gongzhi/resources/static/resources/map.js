/* 一图总览: the county's villages from its own geometry, coloured by their most urgent open need,
   with the town and county stores as points. No tile server unless the county configures one
   (data-tiles); the data comes inline (json_script) so a slow link makes one request. */
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("dispatch-map");
    var data = document.getElementById("map-layers");
    if (!box || !data || typeof L === "undefined") { return; }
    var layers = JSON.parse(data.textContent);
    var map = L.map(box, { preferCanvas: true, zoomSnap: 0.25 });
    if (box.dataset.tiles) {
      L.tileLayer(box.dataset.tiles, { maxZoom: 18 }).addTo(map);
    }
    var colour = { "1": "#c62828", "2": "#ef8f00", "3": "#1565c0", none: "#9e9e9e" };
    function urgency(p) {
      var needs = p.needs || {};
      if (needs["1"]) { return "1"; }
      if (needs["2"]) { return "2"; }
      if (needs["3"]) { return "3"; }
      return "none";
    }
    function stockText(stock) {
      var parts = [];
      Object.keys(stock || {}).forEach(function (kind) { parts.push(kind + " " + stock[kind].available); });
      return parts.join("，");
    }
    function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
    function popup(p) {
      var div = document.createElement("div");
      div.appendChild(text("strong", p.name));
      div.appendChild(text("div", box.dataset.labelNeeds + "：" + (p.open_needs || 0) + "（" + box.dataset.labelEmergencies + " " + (p.emergencies || 0) + "）"));
      div.appendChild(text("div", box.dataset.labelDelivered + "：" + (p.delivered || 0)));
      var stock = stockText(p.stock);
      if (stock) { div.appendChild(text("div", box.dataset.labelStock + "：" + stock)); }
      return div;
    }
    var villages = L.geoJSON(layers.villages, {
      style: function (f) { var c = colour[urgency(f.properties)]; return { color: "#555", weight: 1, fillColor: c, fillOpacity: 0.45 }; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 7, color: "#333", weight: 1, fillColor: colour[urgency(f.properties)], fillOpacity: 0.8 }); },
      onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); layer.bindTooltip(f.properties.name); }
    }).addTo(map);
    var grids = L.geoJSON(layers.grids, {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 4, color: "#6a1b9a", weight: 1, fillOpacity: 0.7 }); },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name + " · " + box.dataset.labelNeeds + " " + f.properties.open_needs); }
    });
    var stores = L.geoJSON(layers.stores, {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 9, color: "#1b5e20", weight: 2, fillColor: "#66bb6a", fillOpacity: 0.9 }); },
      onEachFeature: function (f, layer) { var d = text("div", box.dataset.labelStore + " · " + f.properties.name + "：" + stockText(f.properties.stock)); layer.bindPopup(d); }
    }).addTo(map);
    L.control.layers(null, { "村（社区）": villages, "网格需求": grids, "县镇储备点": stores }, { collapsed: true }).addTo(map);
    if (layers.bbox) {
      map.fitBounds([[layers.bbox[1], layers.bbox[0]], [layers.bbox[3], layers.bbox[2]]]);
    } else {
      map.setView([32.9, 108.5], 10);
    }
    box.dataset.ready = String(villages.getLayers().length);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
