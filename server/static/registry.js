// The site form's map, drawn only when MAP_TILE_URL is set: a 3 × 3 square of that
// server's tiles around the point, in Web Mercator as every tile server slices the world.
// A click puts the site there (latitude and longitude in the form) and centres the map on
// it; ＋ and － zoom. No library and no build step: the maths is a dozen lines, and the
// form's numbers stay what is saved, the map only helps to find them.
(function () {
  "use strict";
  var box = document.querySelector("[data-picker]");
  if (!box) return;
  var form = box.closest("form");
  var view = box.querySelector(".picker-view");
  var lat = form.elements.lat, lon = form.elements.lon, radius = form.elements.radius_m;
  var TILE = 256, MAX_LAT = 85.05112878, MIN_ZOOM = 2, MAX_ZOOM = 19;
  var template = box.dataset.tiles;
  var zoom = Number(box.dataset.zoom);
  var centre = { lat: Number(box.dataset.lat), lon: Number(box.dataset.lon) };

  function span(z) { return TILE * Math.pow(2, z); }

  // The pixel of a place on the whole world's map at zoom z, and back.
  function pixel(place, z) {
    var sin = Math.sin(Math.max(-MAX_LAT, Math.min(MAX_LAT, place.lat)) * Math.PI / 180);
    return { x: (place.lon + 180) / 360 * span(z),
             y: (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * span(z) };
  }

  function place(x, y, z) {
    var n = span(z);
    y = Math.max(0, Math.min(n, y));
    var lon = x / n * 360 - 180;
    return { lat: Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI,
             lon: ((lon + 540) % 360 + 360) % 360 - 180 };
  }

  function metresPerPixel(at, z) {
    return 156543.03392 * Math.cos(at.lat * Math.PI / 180) / Math.pow(2, z);
  }

  function typed() {
    var at = { lat: parseFloat(lat.value), lon: parseFloat(lon.value) };
    var ok = isFinite(at.lat) && isFinite(at.lon) && Math.abs(at.lat) <= 90 && Math.abs(at.lon) <= 180;
    return ok ? at : null;
  }

  function mark(className, size) {
    var dot = document.createElement("div");
    dot.className = className;
    dot.style.left = dot.style.top = view.clientWidth / 2 + "px";
    if (size) dot.style.width = dot.style.height = size + "px";
    view.appendChild(dot);
  }

  function draw() {
    var site = typed();
    if (site) centre = site;
    var middle = pixel(centre, zoom), half = view.clientWidth / 2;
    var left = middle.x - half, top = middle.y - half, count = Math.pow(2, zoom);
    var column = Math.floor(middle.x / TILE), row = Math.floor(middle.y / TILE);
    view.textContent = "";
    for (var dx = -1; dx <= 1; dx++) {
      for (var dy = -1; dy <= 1; dy++) {
        var x = column + dx, y = row + dy;
        if (y < 0 || y >= count) continue;
        var tile = document.createElement("img");
        tile.alt = "";
        tile.draggable = false;
        tile.addEventListener("error", function () { this.remove(); });
        tile.src = template.replace("{z}", zoom).replace("{x}", ((x % count) + count) % count)
          .replace("{y}", y);
        tile.style.left = x * TILE - left + "px";
        tile.style.top = y * TILE - top + "px";
        view.appendChild(tile);
      }
    }
    if (site) {
      var metres = parseFloat(radius.value);
      if (metres > 0) mark("fence", 2 * metres / metresPerPixel(site, zoom));
      mark("pin");
    }
  }

  view.addEventListener("click", function (event) {
    var bounds = view.getBoundingClientRect(), middle = pixel(centre, zoom);
    var half = view.clientWidth / 2;
    var at = place(middle.x - half + event.clientX - bounds.left - view.clientLeft,
                   middle.y - half + event.clientY - bounds.top - view.clientTop, zoom);
    lat.value = at.lat.toFixed(6);
    lon.value = at.lon.toFixed(6);
    draw();
  });
  box.querySelectorAll("[data-zoom-by]").forEach(function (button) {
    button.addEventListener("click", function () {
      zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom + Number(button.dataset.zoomBy)));
      draw();
    });
  });
  [lat, lon, radius].forEach(function (input) { input.addEventListener("change", draw); });
  window.addEventListener("resize", draw);
  draw();
})();
