// The calling board in a browser: draws each board event (the same snapshot
// the Qt board draws), and plays calls one after another — a new call waits
// for the one being spoken, never cuts it off — flashing the called number.
(function () {
  "use strict";
  var init = JSON.parse(document.getElementById("board-data").textContent);
  var T = init.texts;
  var offset = 0;                       // server clock - this screen's clock (ms)
  var lastEvent = Date.now();
  var lost = false;
  var queue = [];
  var playing = false;
  var ticker = document.getElementById("ticker");
  var stale = document.getElementById("stale");
  var hint = document.getElementById("sound-hint");
  var rooms = document.getElementById("rooms");
  var clockFmt = new Intl.DateTimeFormat("vi-VN", {timeZone: init.timezone, hour: "2-digit", minute: "2-digit",
                                                   second: "2-digit", hour12: false});
  window.__board = {played: [], calls: 0, polls: 0};

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function num(n) { return (n.priority ? "\u2605" : "") + n.label; }
  function section(code) { return rooms.querySelector('section.room[data-room="' + code + '"]'); }
  function setText(el, text) { if (el.textContent !== text) { el.textContent = text; } }

  function render(b) {
    window.__lastBoard = b;
    document.body.setAttribute("data-poll", String(b.poll));
    window.__board.polls = b.poll;
    offset = b.now_ms - Date.now();
    b.rooms.forEach(function (r) {
      var el = section(r.code);
      if (!el) { return; }
      setText(el.querySelector(".room-name"), r.name);
      setText(el.querySelector(".serving-number"), r.serving ? num(r.serving) : T.none);
      setText(el.querySelector(".next"), r.waiting.map(num).join("  ") || T.none);
      var more = r.waiting_total - r.waiting.length;
      var count = more > 0 ? fill(T.waiting_more, {count: more}) : fill(T.waiting_count, {count: r.waiting_total});
      if (r.waiting.some(function (w) { return w.priority; })) {
        count += "  \u00b7  " + fill(T.priority_legend, {mark: "\u2605"});
      }
      setText(el.querySelector(".count"), count);
      var recent = r.recent.map(function (x) { return x.absent ? x.label + " (" + T.absent + ")" : x.label; });
      setText(el.querySelector(".recent"), recent.length ? T.recent + ": " + recent.join("  ") : "");
    });
    showStale();
  }

  function showStale() {
    var b = window.__lastBoard;
    var text = "";
    if (lost) { text = T.server_lost; }
    else if (b && b.stale) { text = fill(T.stale, {time: b.updated || "--:--"}); }
    setText(stale, text);
    stale.hidden = !text;
  }

  function layout() {
    var n = rooms.children.length;
    var w = rooms.clientWidth, h = rooms.clientHeight;
    var forced = document.body.getAttribute("data-orientation");
    var best = 1, bestScore = -1;
    for (var cols = 1; cols <= n; cols++) {
      var rows = Math.ceil(n / cols);
      var score = Math.min(w / cols, (h / rows) * 0.85);
      if (score > bestScore) { best = cols; bestScore = score; }
    }
    if (forced === "landscape") { best = Math.min(n, 4); }
    if (forced === "portrait") { best = n > 4 ? 2 : 1; }
    rooms.style.setProperty("--cols", String(best));
  }

  function tick() {
    setText(document.getElementById("clock"), clockFmt.format(new Date(Date.now() + offset)));
    var quiet = Date.now() - lastEvent > 2.5 * init.heartbeat_ms;
    if (quiet !== lost) { lost = quiet; showStale(); }
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function flash(code) {
    var el = section(code);
    if (!el) { return; }
    var box = el.querySelector(".serving");
    box.classList.remove("flash");
    void box.offsetWidth;               // restart the animation
    box.classList.add("flash");
  }

  function play(url) {
    return new Promise(function (resolve, reject) {
      var audio = new Audio(url);
      var guard = setTimeout(function () { audio.pause(); resolve(); }, 60000);
      audio.onended = function () { clearTimeout(guard); resolve(); };
      audio.onerror = function () { clearTimeout(guard); reject(new Error("audio")); };
      var p = audio.play();
      if (p && p.catch) { p.catch(function (e) { clearTimeout(guard); reject(e); }); }
    });
  }

  async function announce(c) {
    var started = Date.now();
    window.__board.calls += 1;
    flash(c.room);
    setText(ticker, fill(T.calling, {label: c.label, room: c.room_name}));
    var sound = false;
    if (c.audio) {
      try { await play(c.audio); sound = true; hint.hidden = true; }
      catch (e) { hint.hidden = false; await sleep(3000); }
    } else {
      await sleep(3000);
    }
    window.__board.played.push({label: c.label, room: c.room, started: started, ended: Date.now(), sound: sound});
  }

  async function drain() {
    playing = true;
    while (queue.length) { await announce(queue.shift()); }
    playing = false;
  }

  function connect() {
    var es = new EventSource(init.events);
    es.addEventListener("board", function (e) { lastEvent = Date.now(); render(JSON.parse(e.data)); });
    es.addEventListener("call", function (e) {
      lastEvent = Date.now();
      queue.push(JSON.parse(e.data));
      if (!playing) { drain(); }
    });
    es.addEventListener("ping", function () { lastEvent = Date.now(); });
    es.onopen = function () { lastEvent = Date.now(); };
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) {   // refused (server full): try again later
        setTimeout(connect, 15000 + Math.random() * 15000);
      }
    };
  }

  document.addEventListener("click", function () { hint.hidden = true; });
  window.addEventListener("resize", layout);
  layout();
  if (init.board) { render(init.board); }
  tick();
  setInterval(tick, 500);
  connect();
})();
