/* Offline catchment map: draws inline SVG from the JSON in #map-data. No network use. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("map-data").textContent);
  // texts of the run's language (text/<lang>.toml [map]); {name} fields filled in here
  function T(key, fields) {
    var s = D.t[key];
    Object.keys(fields || {}).forEach(function (n) { s = s.split("{" + n + "}").join(fields[n]); });
    return s;
  }
  function modeLabel(m) { return D.modeLabels[m] || m; }
  var svg = document.getElementById("map");
  var NS = svg.namespaceURI;           // the SVG namespace, taken from the inline <svg>
  var $ = function (id) { return document.getElementById(id); };
  var SHORT = ["#ffffe5", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"];
  var state = { stage: $("stage").value, year: +$("year").value, mode: $("mode").value,
                view: "catchment", rings: false, focus: -1 };
  var box = D.view.slice();            // current viewBox [x, y, w, h]
  var stageInfo = {};
  D.stages.forEach(function (s) { stageInfo[s.id] = s; });
  var projectsBySchool = {};

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || isNaN(v)) { return "–"; }
    return Number(v).toLocaleString("en", { maximumFractionDigits: digits || 0 });
  }
  function pct(v) { return (v === null || v === undefined || isNaN(v)) ? "–" : fmt(100 * v, 1) + " %"; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function niceMax(v) {
    if (!(v > 0)) { return 5; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = [1, 2, 2.5, 5, 10].find(function (k) { return k * p >= v; });
    return m * p;
  }
  function shortColour(v, vmax) {
    if (v === null || v === undefined || isNaN(v)) { return "#e6e6e6"; }
    if (v <= 0) { return SHORT[0]; }
    var k = Math.min(5, 1 + Math.floor(5 * v / vmax - 1e-9));
    return SHORT[Math.max(1, k)];
  }
  function utilClass(u) {
    var k = 0;
    D.utilBins.forEach(function (b) { if (u >= b) { k += 1; } });
    return k;
  }

  // ---------------------------------------------------------------- static layers
  var cells = D.cells.map(function (d, i) {
    return el("path", { d: d, "data-i": i }, $("cells"));
  });
  var zones = D.zones.path.map(function (d, i) {
    return el("path", { d: d, "data-kind": "zone", "data-i": i }, $("zones"));
  });
  $("district").setAttribute("d", D.district);

  function current() { return D.data[state.stage][String(state.year)]; }
  function codesFor(entry) {
    var s = D.assign[entry.m[state.mode].a], w = D.codeWidth, out = new Array(s.length / w);
    var B = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    for (var i = 0; i < out.length; i++) {
      var v = 0;
      for (var j = 0; j < w; j++) { v = v * 64 + B.indexOf(s.charAt(i * w + j)); }
      out[i] = v;
    }
    return out;
  }
  function pxPerUnit() {
    var r = svg.getBoundingClientRect();
    return Math.min(r.width / box[2], r.height / box[3]) || 1;
  }

  // ---------------------------------------------------------------- drawing
  var codes = [];
  function draw() {
    var entry = current();
    if (!entry) { return; }
    var info = stageInfo[state.stage], md = entry.m[state.mode];
    codes = codesFor(entry);
    var colours = D.schools.colour[state.stage] || [];
    var vmax = niceMax(info.vmax);
    // cells (catchments) and zones
    cells.forEach(function (c, i) {
      var code = codes[i];
      var show = code > 0 && state.view === "catchment";
      c.style.display = show ? "" : "none";
      if (!show) { return; }
      var fill = code === 1 ? "url(#hatch)" : D.palette[colours[code - 2] || 0];
      c.setAttribute("fill", fill);
      c.setAttribute("stroke", code === 1 ? "none" : fill);
      c.classList.toggle("dim", state.focus >= 0 && code !== state.focus + 2);
    });
    zones.forEach(function (z, i) {
      var per = entry.c[i] > 0 ? 1000 * md.f[i] / entry.c[i] : null;
      z.classList.toggle("filled", state.view === "shortfall");
      z.setAttribute("fill", shortColour(per, vmax));
    });
    drawDesigned();
    drawSchools(entry, md);
    drawLegend(info, vmax);
    drawSummary(entry, md, info);
  }

  // designed catchments (a run under a catchment map, or capacity catchments): outlines
  if (D.designed) { $("designed-label").hidden = false; }
  function drawDesigned() {
    var g = $("designed"), layer = D.designed && D.designed[state.stage];
    while (g.firstChild) { g.removeChild(g.firstChild); }
    if (!layer || !$("designed-toggle").checked) { return; }
    layer.path.forEach(function (d, i) {
      el("path", { d: d, "data-kind": "designed", "data-i": i }, g);
    });
  }

  function schoolRadius(places, pmax) {
    return (3 + 9 * Math.sqrt(Math.max(places, 0) / (pmax || 1))) / pxPerUnit();
  }
  var pmaxCache = {};
  function stagePmax() {
    if (pmaxCache[state.stage] === undefined) {
      var m = 1;
      D.years.forEach(function (y) {
        var e = D.data[state.stage][String(y)];
        if (e) { e.p.forEach(function (p) { if (p > m) { m = p; } }); }
      });
      pmaxCache[state.stage] = m;
    }
    return pmaxCache[state.stage];
  }
  function starPath(x, y, r) {
    var d = "";
    for (var k = 0; k < 10; k++) {
      var a = -Math.PI / 2 + k * Math.PI / 5, rr = k % 2 ? r * 0.45 : r;
      d += (k ? "L" : "M") + (x + rr * Math.cos(a)).toFixed(1) + " " + (y + rr * Math.sin(a)).toFixed(1);
    }
    return d + "Z";
  }
  function diamondPath(x, y, r) {
    return "M" + x + " " + (y - r) + "L" + (x + r) + " " + y + "L" + x + " " + (y + r) + "L" + (x - r) + " " + y + "Z";
  }
  function drawSchools(entry, md) {
    var g = $("schools"), pg = $("projects"), rg = $("ringlayer");
    g.textContent = ""; pg.textContent = ""; rg.textContent = "";
    var pmax = stagePmax(), u = 1 / pxPerUnit(), info = stageInfo[state.stage];
    var open = {};
    entry.s.forEach(function (si, k) {
      open[si] = true;
      var x = D.schools.x[si], y = D.schools.y[si];
      if (state.rings && info.radius) {
        el("circle", { cx: x, cy: y, r: info.radius * (D.schools.rs[si] || 1) / D.unit }, rg);
      }
      var util = entry.p[k] > 0 ? md.q[k] / entry.p[k] : null;
      var c = el("circle", { cx: x, cy: y, r: schoolRadius(entry.p[k], pmax),
                             fill: D.utilColours[util === null ? 0 : utilClass(util)],
                             "data-kind": "school", "data-i": si, "data-k": k }, g);
      if (si === state.focus) { c.classList.add("focus"); }
    });
    projectsBySchool = {};
    D.projects.forEach(function (p, pi) {
      if (p.stage !== state.stage || p.school < 0) { return; }
      (projectsBySchool[p.school] = projectsBySchool[p.school] || []).push(p);
      var x = D.schools.x[p.school], y = D.schools.y[p.school];
      var isOpen = p.open !== null && p.open <= state.year;
      var r = (p.kind === "new" ? 11 : 14) * u;
      var d = p.kind === "new" ? starPath(x, y - (isOpen ? 0 : 0), r) : diamondPath(x, y, r);
      el("path", { d: d, fill: p.kind === "new" && isOpen ? D.newColour : "none",
                   stroke: isOpen ? (p.kind === "new" ? "#000" : D.newColour) : "#777",
                   "stroke-width": isOpen ? (p.kind === "new" ? 1 : 2.2) : 1.2,
                   "stroke-dasharray": isOpen ? "none" : "3 2",
                   "fill-opacity": 0.95, "data-kind": "project", "data-i": pi }, pg);
    });
    var pat = $("hatch"), w = 8 * u;
    pat.setAttribute("width", w); pat.setAttribute("height", w);
    pat.children[0].setAttribute("width", w); pat.children[0].setAttribute("height", w);
    pat.children[1].setAttribute("width", w * 0.3); pat.children[1].setAttribute("height", w);
  }

  function drawLegend(info, vmax) {
    var h = "";
    if (state.view === "shortfall") {
      var ages = info.ages ? T("ages_suffix", { first: info.ages[0], last: info.ages[1] }) : "";
      h += "<h3>" + esc(T("legend_shortfall", { ages: ages })) + "</h3>";
      h += row('<span class="sw" style="background:' + SHORT[0] + '"></span>', T("none"));
      for (var k = 1; k <= 5; k++) {
        h += row('<span class="sw" style="background:' + SHORT[k] + '"></span>',
                 fmt(vmax * (k - 1) / 5) + "–" + fmt(vmax * k / 5));
      }
      h += row('<span class="sw" style="background:#e6e6e6"></span>', T("no_children"));
    } else {
      h += "<h3>" + esc(T("catchments")) + "</h3>";
      h += row('<span class="sw" style="background:' + D.palette[0] + '"></span>',
               T("catchment_area"));
      h += row('<svg width="16" height="12"><rect width="16" height="12" fill="#f4f4f4"></rect>' +
               '<path d="M0 12L12 0M6 12L16 2M-2 6L4 0" stroke="#9a9a9a" stroke-width="2.5"></path></svg>',
               T("not_served"));
    }
    h += "<h3>" + esc(T("utilisation_of", { mode: modeLabel(state.mode) })) + "</h3>";
    D.utilLabels.forEach(function (lab, i) {
      h += row('<svg width="16" height="16"><circle cx="8" cy="8" r="6" fill="' + D.utilColours[i] +
               '" stroke="#000"></circle></svg>', lab);
    });
    h += row("", T("circle_area"));
    h += "<h3>" + esc(T("key_projects")) + "</h3>";
    h += row('<svg width="18" height="18"><path d="' + starPath(9, 9, 8) + '" fill="' + D.newColour +
             '" stroke="#000"></path></svg>', T("new_open"));
    h += row('<svg width="18" height="18"><path d="' + diamondPath(9, 9, 7) + '" fill="none" stroke="' +
             D.newColour + '" stroke-width="2"></path></svg>', T("expansion_open"));
    h += row('<svg width="18" height="18"><path d="' + starPath(9, 9, 8) +
             '" fill="none" stroke="#777" stroke-dasharray="3 2"></path></svg>', T("planned_later"));
    h += "<h3>" + esc(T("lines")) + "</h3>";
    h += row('<svg width="18" height="10"><path d="M0 5H18" stroke="#000" stroke-width="2.2"></path></svg>', T("district"));
    h += row('<svg width="18" height="10"><path d="M0 5H18" stroke="#6b6b6b" stroke-dasharray="3 2"></path></svg>', T("zone"));
    if (state.rings) {
      h += row('<svg width="18" height="10"><path d="M0 5H18" stroke="#2c5aa0" stroke-dasharray="4 3"></path></svg>',
               T("radius", { radius: fmt(info.radius) }) +
               (D.schools.rs.some(function (v) { return v !== 1; }) ? T("radius_scaled") : ""));
    }
    $("legend").innerHTML = h;
    function row(sym, text) { return '<div class="row">' + sym + "<span>" + esc(text) + "</span></div>"; }
  }

  function sum(a) { return a.reduce(function (s, v) { return s + (v || 0); }, 0); }
  function drawSummary(entry, md, info) {
    var dem = sum(entry.d), pl = sum(entry.p), sf = sum(md.f), oor = sum(md.o);
    var tr = function (key, v) { return "<tr><td>" + esc(T(key)) + "</td><td class=n>" + v + "</td></tr>"; };
    $("summary").innerHTML = "<h3>" + esc(info.label) + ", " + state.year + " (" +
      esc(modeLabel(state.mode)) + ")</h3><table>" +
      tr("pupils_demand", fmt(dem)) + tr("places", fmt(pl)) + tr("served", fmt(sum(md.q))) +
      tr("shortfall", "<b>" + fmt(sf) + "</b>") + tr("out_of_reach", fmt(oor)) +
      tr("schools_open", entry.s.length) + "</table>";
  }

  // ---------------------------------------------------------------- tooltips
  var tip = $("tooltip");
  function tipHtml(target) {
    var kind = target.getAttribute("data-kind"), i = +target.getAttribute("data-i");
    var entry = current(), md = entry.m[state.mode], info = stageInfo[state.stage];
    var rows = function (list) {
      return "<table>" + list.map(function (r) {
        return "<tr><td>" + esc(r[0]) + "</td><td class=n>" + r[1] + "</td></tr>";
      }).join("") + "</table>";
    };
    if (kind === "zone") {
      var per = entry.c[i] > 0 ? 1000 * md.f[i] / entry.c[i] : null;
      var ages = info.ages ? T("children_aged", { first: info.ages[0], last: info.ages[1] }) : T("children");
      return "<b>" + esc(D.zones.name[i]) + " (" + esc(D.zones.id[i]) + ")</b>" + rows([
        [ages, fmt(entry.c[i])], [T("pupils_demand"), fmt(entry.d[i])],
        [T("shortfall"), "<b>" + fmt(md.f[i]) + "</b>"], [T("out_of_reach"), fmt(md.o[i])],
        [T("per_1000"), fmt(per, 1)]]);
    }
    if (kind === "school") {
      var k = +target.getAttribute("data-k");
      var served = 0;
      codes.forEach(function (c) { if (c === i + 2) { served += 1; } });
      var h = "<b>" + esc(D.schools.name[i]) + "</b>" + rows([
        [T("school_id"), esc(D.schools.id[i])], [T("places"), fmt(entry.p[k])],
        [T("pupils"), fmt(md.q[k])],
        [T("utilisation"), pct(entry.p[k] > 0 ? md.q[k] / entry.p[k] : null)],
        [T("catchment_cells"), fmt(served)]]);
      (projectsBySchool[i] || []).forEach(function (p) {
        h += "<div>" + esc(T("project")) + ": " + esc(p.name) + " — " +
          esc(T(p.kind === "new" ? "new_school" : "expansion")) +
          (p.places !== null ? ", " + esc(T("n_places", { n: fmt(p.places) })) : "") +
          (p.open !== null ? ", " + esc(T("opens", { year: p.open })) : "") +
          (p.open !== null && p.open > state.year ? esc(T("planned_paren")) : "") + "</div>";
      });
      return h;
    }
    if (kind === "designed") {
      var lay = D.designed[state.stage];
      return "<b>" + esc(lay.name[i]) + "</b>" + rows([[T("school_id"), esc(lay.id[i])]]) +
        "<div>" + esc(T("designed_layer")) + "</div>";
    }
    if (kind === "project") {
      var p = D.projects[i], sk = entry.s.indexOf(p.school);
      var list = [
        [T("key_project"), esc(T(p.kind === "new" ? "new_school" : "expansion"))],
        [T("school"), esc(D.schools.name[p.school] || "")],
        [T("project_places"), fmt(p.places)], [T("opening_year"), p.open === null ? "–" : String(p.open)],
        [T("status_in", { year: state.year }), esc(T(p.open !== null && p.open <= state.year ? "open" : "planned"))],
        [T("cost"), p.cost_text ? esc(p.cost_text) : fmt(p.cost)]];
      if (sk >= 0) {
        list.push([T("school_places"), fmt(entry.p[sk])], [T("pupils"), fmt(md.q[sk])],
                  [T("utilisation"), pct(entry.p[sk] > 0 ? md.q[sk] / entry.p[sk] : null)]);
      }
      return "<b>" + esc(p.name) + "</b>" + rows(list);
    }
    return null;
  }
  svg.addEventListener("pointermove", function (ev) {
    if (drag) { return; }
    var t = ev.target, h = t && t.getAttribute ? tipHtml(t) : null;
    if (!h) { tip.hidden = true; return; }
    tip.innerHTML = h;
    tip.hidden = false;
    var mr = svg.parentNode.getBoundingClientRect();
    var x = ev.clientX - mr.left + 14, y = ev.clientY - mr.top + 14;
    if (x + tip.offsetWidth > mr.width) { x = ev.clientX - mr.left - tip.offsetWidth - 10; }
    if (y + tip.offsetHeight > mr.height) { y = ev.clientY - mr.top - tip.offsetHeight - 10; }
    tip.style.left = x + "px"; tip.style.top = y + "px";
  });
  svg.addEventListener("pointerleave", function () { tip.hidden = true; });
  svg.addEventListener("pointerover", function (ev) {
    var t = ev.target, kind = t.getAttribute ? t.getAttribute("data-kind") : null, f = -1;
    if (kind === "school") { f = +t.getAttribute("data-i"); }
    if (kind === "project") { f = D.projects[+t.getAttribute("data-i")].school; }
    if (f !== state.focus) {
      state.focus = f;
      cells.forEach(function (c, i) { c.classList.toggle("dim", f >= 0 && codes[i] !== f + 2); });
    }
  });

  // ---------------------------------------------------------------- pan and zoom
  function setBox() { svg.setAttribute("viewBox", box.join(" ")); }
  function toUser(ev) {
    var r = svg.getBoundingClientRect(), s = Math.min(r.width / box[2], r.height / box[3]);
    var ox = (r.width - box[2] * s) / 2, oy = (r.height - box[3] * s) / 2;
    return [box[0] + (ev.clientX - r.left - ox) / s, box[1] + (ev.clientY - r.top - oy) / s];
  }
  function zoom(f, at) {
    var c = at || [box[0] + box[2] / 2, box[1] + box[3] / 2];
    var w = Math.min(Math.max(box[2] / f, D.view[2] / 200), D.view[2] * 4);
    var k = w / box[2];
    box = [c[0] - (c[0] - box[0]) * k, c[1] - (c[1] - box[1]) * k, box[2] * k, box[3] * k];
    setBox(); draw();
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY < 0 ? 1.25 : 0.8, toUser(ev));
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    drag = { x: ev.clientX, y: ev.clientY, box: box.slice(), s: pxPerUnit() };
    svg.classList.add("dragging");
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    box[0] = drag.box[0] - (ev.clientX - drag.x) / drag.s;
    box[1] = drag.box[1] - (ev.clientY - drag.y) / drag.s;
    setBox();
  });
  function endDrag() { drag = null; svg.classList.remove("dragging"); }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  $("zoom-in").onclick = function () { zoom(1.5); };
  $("zoom-out").onclick = function () { zoom(1 / 1.5); };
  $("zoom-reset").onclick = function () { box = D.view.slice(); setBox(); draw(); };
  window.addEventListener("resize", draw);

  // ---------------------------------------------------------------- controls
  function setYearIndex(i) {
    i = Math.max(0, Math.min(D.years.length - 1, i));
    state.year = D.years[i];
    $("year-slider").value = i; $("year").value = String(state.year);
    draw();
  }
  $("stage").onchange = function () { state.stage = this.value; draw(); };
  $("mode").onchange = function () { state.mode = this.value; draw(); };
  $("year").onchange = function () { setYearIndex(D.years.indexOf(+this.value)); };
  $("year-slider").oninput = function () { setYearIndex(+this.value); };
  $("rings").onchange = function () { state.rings = this.checked; draw(); };
  $("designed-toggle").onchange = function () { draw(); };
  Array.prototype.forEach.call(document.querySelectorAll("input[name=view]"), function (r) {
    r.onchange = function () { if (this.checked) { state.view = this.value; draw(); } };
  });
  var timer = null;
  $("play").onclick = function () {
    if (timer) { clearInterval(timer); timer = null; this.innerHTML = "&#9654;"; return; }
    this.innerHTML = "&#10073;&#10073;";
    if (D.years.indexOf(state.year) === D.years.length - 1) { setYearIndex(0); }
    var btn = this;
    timer = setInterval(function () {
      var i = D.years.indexOf(state.year) + 1;
      if (i >= D.years.length) { clearInterval(timer); timer = null; btn.innerHTML = "&#9654;"; return; }
      setYearIndex(i);
    }, 900);
  };

  setBox();
  draw();
  document.body.setAttribute("data-ready", "1");
})();
