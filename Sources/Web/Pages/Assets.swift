/// The stylesheet, script and icons the daemon serves itself (the server has no internet access,
/// and the CSP allows nothing but 'self').
enum Assets {
    static func stylesheet(logMaxHeight: Int?) -> String {
        let logHeight = logMaxHeight.map { "max-height: \($0)px;" } ?? ""
        return """
        :root {
          --bg: #f4f5f7; --panel: #ffffff; --ink: #1c2128; --muted: #5d6673; --line: #d9dde3;
          --accent: #1f5fbf; --ok: #1a7f37; --warn: #9a6700; --bad: #c62828; --mono: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
        }
        * { box-sizing: border-box; }
        html, body { margin: 0; padding: 0; background: var(--bg); color: var(--ink);
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        #header { display: flex; align-items: baseline; gap: 18px; padding: 10px 20px; background: #1c2128; color: #e6e9ee; }
        #header .system { font-size: 17px; font-weight: 650; color: #fff; letter-spacing: .2px; }
        #header .meta { color: #aab2bd; font-size: 13px; }
        #header .meta b { color: #e6e9ee; font-weight: 600; }
        #header .generated { margin-left: auto; color: #8b949e; font-size: 12px; font-family: var(--mono); }
        #layout { display: grid; grid-template-columns: 210px minmax(0, 1fr); min-height: calc(100vh - 80px); }
        #methods { border-right: 1px solid var(--line); padding: 14px 0; background: #fbfbfc; }
        #methods h2 { margin: 12px 16px 4px; font-size: 11px; text-transform: uppercase; letter-spacing: .8px; color: var(--muted); }
        #methods ul { list-style: none; margin: 0; padding: 0; }
        #methods li a, #methods li button { display: block; width: 100%; text-align: left; padding: 4px 16px 4px 22px; color: var(--ink);
          font: inherit; background: none; border: 0; cursor: pointer; }
        #methods li a:hover, #methods li button:hover { background: #e9eef6; text-decoration: none; }
        #methods li a.current { background: #e1e9f7; font-weight: 600; }
        #main { padding: 16px 20px; display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; align-content: start; }
        .element { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; min-width: 0; }
        .element.wide { grid-column: 1 / -1; }
        .element > h1 { margin: 0; padding: 7px 12px; font-size: 12px; font-weight: 600; color: var(--muted);
          border-bottom: 1px solid var(--line); text-transform: uppercase; letter-spacing: .6px; }
        .element > h1 .module { color: #8b949e; font-weight: 500; }
        .element > .body { padding: 10px 12px; overflow-x: auto; }
        .kv { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
        .kv dt { color: var(--muted); }
        .kv dd { margin: 0; font-family: var(--mono); font-size: 13px; }
        table.data { border-collapse: collapse; width: 100%; font-size: 13px; }
        table.data th { text-align: left; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 8px; white-space: nowrap; }
        table.data td { padding: 3px 8px; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
        table.data td.mono, .mono { font-family: var(--mono); font-size: 12.5px; }
        table.data tr:hover td { background: #f6f8fb; }
        .empty { color: var(--muted); font-style: italic; }
        .ok { color: var(--ok); font-weight: 600; }
        .bad, .critical, .error { color: var(--bad); }
        .critical { font-weight: 700; }
        .warn { color: var(--warn); }
        .info { color: var(--ink); }
        .debug { color: #8b949e; }
        .pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; background: #eef1f5; font-family: var(--mono); }
        .box { padding: 8px 12px; border-radius: 5px; margin: 0; }
        .box.error { background: #fdecea; border: 1px solid #f3b8b3; color: #8e1c15; }
        .box.success { background: #e8f5ec; border: 1px solid #a7d8b4; color: #14532d; }
        #log { font-family: var(--mono); font-size: 12.5px; overflow-y: auto; \(logHeight) }
        #log div { padding: 1px 0; white-space: pre-wrap; word-break: break-word; }
        #log .time { color: #8b949e; margin-right: 8px; }
        #log .level { display: inline-block; width: 64px; text-transform: uppercase; font-size: 11px; }
        svg.chart { width: 100%; height: auto; display: block; }
        svg.chart .grid { stroke: #e6e9ee; stroke-width: 1; }
        svg.chart .axis { fill: #8b949e; font: 10px var(--mono); }
        svg.chart polyline { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
        .s0 { stroke: #1f5fbf; color: #1f5fbf; } .s1 { stroke: #1a7f37; color: #1a7f37; } .s2 { stroke: #c2410c; color: #c2410c; }
        .s3 { stroke: #7c3aed; color: #7c3aed; } .s4 { stroke: #c62828; color: #c62828; } .s5 { stroke: #0e7490; color: #0e7490; }
        .s6 { stroke: #a16207; color: #a16207; } .s7 { stroke: #4b5563; color: #4b5563; }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin-top: 6px; font-family: var(--mono); }
        .legend span::before { content: ""; display: inline-block; width: 10px; height: 3px; margin-right: 5px; vertical-align: middle; background: currentColor; }
        .legend b { color: var(--ink); font-weight: 600; margin-left: 4px; }
        form.inline { display: inline; }
        .toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 10px; flex-wrap: wrap; }
        meter { width: 160px; height: 14px; vertical-align: middle; }
        .note, .count { color: var(--muted); font-size: 12px; margin: 6px 0; }
        input[type=number] { width: 8em; }
        input[type=text], input[type=search], input[type=number] { font: 13px var(--mono); padding: 4px 7px; border: 1px solid #c4cad3; border-radius: 4px; background: #fff; }
        button, .button { font: 13px system-ui, sans-serif; padding: 4px 11px; border: 1px solid #c4cad3; border-radius: 4px; background: #f6f8fa; color: var(--ink); cursor: pointer; }
        button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
        button.danger { color: var(--bad); }
        fieldset { border: 1px solid var(--line); border-radius: 5px; padding: 8px 12px; margin: 10px 0; }
        fieldset label { display: inline-flex; flex-direction: column; font-size: 12px; color: var(--muted); margin: 0 10px 6px 0; }
        #footer { padding: 8px 20px; font-size: 12px; color: var(--muted); border-top: 1px solid var(--line); }
        """
    }

    /// Confirm dialogs, the history rewrite after DASHBOARD-mode methods, and the live activity chart.
    static let javascript = """
    "use strict";
    function rewriteLocation(path) { if (window.history && history.replaceState) { history.replaceState(null, "", path); } }
    document.addEventListener("submit", function (event) {
      var message = event.target.getAttribute("data-confirm");
      if (message && !window.confirm(message)) { event.preventDefault(); }
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-confirm]") : null;
      if (link && !window.confirm(link.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
    document.addEventListener("DOMContentLoaded", function () {
      var rewrite = document.body.getAttribute("data-rewrite");
      if (rewrite) { rewriteLocation(rewrite); }
      var chart = document.getElementById("activity-chart");
      if (chart) { setInterval(function () { refreshActivity(chart); }, 10000); }
    });
    var SVG_NS = "http://www.w3.org/2000/svg";
    function svgElement(name, attributes, text) {
      var element = document.createElementNS(SVG_NS, name);
      for (var key in attributes) { element.setAttribute(key, attributes[key]); }
      if (text !== undefined) { element.textContent = text; }
      return element;
    }
    function refreshActivity(chart) {
      fetch("/api/activity", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
        .then(function (activity) { drawActivity(chart, activity); })
        .catch(function () { chart.setAttribute("data-stale", "true"); });
    }
    function niceMaximum(value) {
      if (value <= 0) { return 1; }
      var magnitude = Math.pow(10, Math.floor(Math.log10(value)));
      var steps = [1, 2, 2.5, 5, 10];
      for (var i = 0; i < steps.length; i++) { if (steps[i] * magnitude >= value) { return steps[i] * magnitude; } }
      return 10 * magnitude;
    }
    function formatRate(value) { return value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2); }
    function drawActivity(chart, activity) {
      var W = 600, H = 170, LEFT = 40, BOTTOM = 16, TOP = 8;
      var names = Object.keys(activity.series).sort();
      var count = 0, peak = 0;
      names.forEach(function (name) {
        var points = activity.series[name];
        count = Math.max(count, points.length);
        points.forEach(function (value) { peak = Math.max(peak, value); });
      });
      var ceiling = niceMaximum(peak);
      while (chart.firstChild) { chart.removeChild(chart.firstChild); }
      for (var i = 0; i <= 4; i++) {
        var y = TOP + (H - BOTTOM - TOP) * i / 4 + 0.5;
        chart.appendChild(svgElement("line", { "class": "grid", x1: LEFT, x2: W, y1: y, y2: y }));
        chart.appendChild(svgElement("text", { "class": "axis", x: LEFT - 4, y: y + 3, "text-anchor": "end" }, formatRate(ceiling * (4 - i) / 4)));
      }
      ["-60m", "-45m", "-30m", "-15m", "now"].forEach(function (label, i) {
        chart.appendChild(svgElement("text", { "class": "axis", x: LEFT + (W - LEFT) * i / 4, y: H - 2, "text-anchor": i === 0 ? "start" : (i === 4 ? "end" : "middle") }, label));
      });
      var legend = document.getElementById("activity-legend");
      if (legend) { while (legend.firstChild) { legend.removeChild(legend.firstChild); } }
      names.forEach(function (name, index) {
        var points = activity.series[name];
        var span = Math.max(count - 1, 1);
        var coordinates = points.map(function (value, i) {
          var x = LEFT + (W - LEFT) * (i + count - points.length) / span;
          var y = TOP + (H - BOTTOM - TOP) * (1 - value / ceiling);
          return x.toFixed(1) + "," + y.toFixed(1);
        }).join(" ");
        chart.appendChild(svgElement("polyline", { "class": "s" + (index % 8), points: coordinates, "data-method": name }));
        if (legend) {
          var item = document.createElement("span");
          item.className = "s" + (index % 8);
          item.textContent = name;
          var current = document.createElement("b");
          current.textContent = formatRate(points.length ? points[points.length - 1] : 0) + "/s";
          item.appendChild(current);
          legend.appendChild(item);
        }
      });
      chart.setAttribute("data-updated", activity.end);
      chart.removeAttribute("data-stale");
    }
    """

    static let faviconSVG = """
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1c2128"/>\
    <circle cx="16" cy="9" r="3.5" fill="#4c8df6"/><circle cx="8" cy="23" r="3.5" fill="#e6e9ee"/><circle cx="24" cy="23" r="3.5" fill="#e6e9ee"/>\
    <path d="M16 12.5 L9.5 20.5 M16 12.5 L22.5 20.5" stroke="#4c8df6" stroke-width="2"/></svg>
    """

    /// A 16x16 32-bit icon (dark tile, blue dot) in ICO format, built once.
    static let faviconICO: [UInt8] = {
        let size = 16
        var pixels = [UInt8]()  // BGRA, bottom row first
        for row in (0..<size).reversed() {
            for column in 0..<size {
                let dx = Double(column) - 7.5, dy = Double(row) - 7.5
                let inDot = dx * dx + dy * dy <= 16
                let corner = (row == 0 || row == size - 1) && (column == 0 || column == size - 1)
                if corner { pixels += [0, 0, 0, 0] } else if inDot { pixels += [0xf6, 0x8d, 0x4c, 0xff] } else { pixels += [0x28, 0x21, 0x1c, 0xff] }
            }
        }
        let mask = [UInt8](repeating: 0, count: size * 4)  // 1-bit AND mask, rows padded to 32 bits
        let imageSize = 40 + pixels.count + mask.count
        func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xff), UInt8((value >> 8) & 0xff)] }
        func le32(_ value: Int) -> [UInt8] { le16(value & 0xffff) + le16((value >> 16) & 0xffff) }
        var icon = le16(0) + le16(1) + le16(1)  // reserved, type icon, one image
        icon += [UInt8(size), UInt8(size), 0, 0] + le16(1) + le16(32) + le32(imageSize) + le32(22)
        icon += le32(40) + le32(size) + le32(size * 2) + le16(1) + le16(32) + le32(0) + le32(pixels.count + mask.count)
        icon += le32(0) + le32(0) + le32(0) + le32(0)
        return icon + pixels + mask
    }()
}
