// kefu charts: Apache ECharts (served by the app) reading each chart's JSON endpoint.
// The table beside each chart holds the same numbers, so pages work without JS.
(function () {
  "use strict";
  function isRatio(unit) { return unit === "ratio"; }
  function fmt(unit) {
    return function (v) {
      if (v === null || v === undefined) return "–";
      return isRatio(unit) ? (v * 100).toFixed(1) + "%" : (Math.round(v * 100) / 100).toLocaleString();
    };
  }
  function option(data) {
    var f = fmt(data.unit);
    if (data.kind === "pie") {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], label: { formatter: "{b}: {c} ({d}%)" },
          data: data.categories.map(function (c, i) { return { name: c, value: data.series[0].data[i] }; }) }]
      };
    }
    return {
      tooltip: { trigger: "axis", valueFormatter: f },
      legend: { top: 0, type: "scroll" },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.categories },
      yAxis: { type: "value", axisLabel: { formatter: f } },
      series: data.series.map(function (s) {
        return { name: s.name, type: data.kind, data: s.data, connectNulls: false, showSymbol: true, symbolSize: 7,
                 stack: data.kind === "bar" && data.series.length > 1 ? "all" : undefined };
      })
    };
  }
  function draw(el) {
    fetch(el.dataset.chart, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var chart = echarts.init(el, null, { locale: el.dataset.lang === "en" ? "EN" : "ZH" });
        chart.setOption(option(data));
        el.dataset.rendered = "1";
        var fig = el.closest("figure");
        var button = fig && fig.querySelector("button[data-png]");
        if (button) {
          button.hidden = false;
          button.addEventListener("click", function () {
            var a = document.createElement("a");
            a.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
            a.download = (fig.id || "chart") + ".png";
            document.body.appendChild(a);
            a.click();
            a.remove();
          });
        }
        window.addEventListener("resize", function () { chart.resize(); });
      });
  }
  function start() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
