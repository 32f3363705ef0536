/* Live refresh of [data-live] regions: see portal/views/live.py. */
(function () {
  "use strict";
  var d = document, s = d.currentScript, url = s.dataset.liveUrl, tag = s.dataset.version,
    forms = JSON.parse(s.dataset.ago || "{}"), busy = 0, skew = 0,
    rules = window.Intl && Intl.PluralRules && new Intl.PluralRules(d.documentElement.lang);

  function ago() {
    d.querySelectorAll("time[data-ago]").forEach(function (t) {
      var m = Math.floor((Date.now() + skew - Date.parse(t.getAttribute("datetime"))) / 6e4),
        u = m >= 2880 ? "d" : m >= 60 ? "h" : m >= 1 ? "m" : "now",
        n = u == "d" ? Math.floor(m / 1440) : u == "h" ? Math.floor(m / 60) : m, f = forms[u];
      if (f) { t.textContent = typeof f == "string" ? f : f[rules && rules.select(n) == "one" ? 0 : 1].replace("%(num)d", n); }
    });
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    d.querySelectorAll("[data-live]").forEach(function (old) {
      var fresh = old.id && doc.getElementById(old.id);
      if (!fresh || old.contains(d.activeElement)) { return; }
      old.querySelectorAll("details[open][id]").forEach(function (x) {
        var twin = fresh.querySelector("#" + x.id);
        if (twin) { twin.open = true; }
      });
      old.replaceWith(d.importNode(fresh, true));
    });
  }

  function tick() {
    if (d.hidden || busy) { return; }
    busy = 1;
    fetch(url, { headers: { "If-None-Match": tag }, cache: "no-store" }).then(function (r) {
      var t = r.headers.get("ETag"), now = Date.parse(r.headers.get("Date"));
      if (now) { skew = now - Date.now(); } // the reader's clock may be wrong
      if (r.status == 200 && t && t != tag) {
        return fetch(location.href, { cache: "no-cache" }).then(function (p) {
          return p.ok && p.text().then(function (h) { swap(h); tag = t; });
        });
      }
    }).catch(function () {}).then(function () { busy = 0; ago(); });
  }

  setInterval(tick, 6e4);
  d.addEventListener("visibilitychange", tick);
}());
