// The phone page: live updates of one visit, and an alert at the turn
// (vibration where the phone allows it, a chime once sound is switched on).
(function () {
  "use strict";
  var init = JSON.parse(document.getElementById("phone-data").textContent);
  var audio = null;
  var wasTurn = !!init.view.turn;
  window.__phone = {alerts: 0, updates: 0, state: init.view.state};

  function $(id) { return document.getElementById(id); }
  function show(id, text) {
    var el = $(id);
    if (el.textContent !== text) { el.textContent = text; }
    el.hidden = !text;
  }

  function apply(v) {
    window.__phone.updates += 1;
    window.__phone.state = v.state;
    document.body.className = "phone state-" + v.state + (v.turn ? " turn" : "");
    document.body.setAttribute("data-state", v.state);
    var number = $("number");
    number.textContent = v.number || "\u2014";
    if (v.priority) {
      var star = document.createElement("span");
      star.className = "star";
      star.textContent = "\u2605";
      number.insertBefore(star, number.firstChild);
    }
    show("headline", v.headline);
    show("detail", v.turn ? "" : v.detail);
    show("ahead", v.ahead);
    show("wait", v.wait);
    show("serving", v.serving);
    show("stale", v.stale);
    show("room", v.room);
    $("where").textContent = v.where;
    $("department").textContent = v.department;
    $("place").hidden = !v.room;
    $("updated").textContent = v.updated;
    $("turn").hidden = !v.turn;
    $("turn-head").textContent = v.headline;
    $("turn-go").textContent = v.detail;
    $("turn-where").textContent = v.where;
    document.title = v.turn ? "(!) " + v.headline : init.title + " " + (v.number || "");
    if (v.turn && !wasTurn) { alertTurn(); }
    wasTurn = !!v.turn;
  }

  function tone(ctx, freq, start, seconds) {
    var osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.5, start + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
    osc.connect(gain); gain.connect(ctx.destination);
    osc.start(start); osc.stop(start + seconds);
  }

  function chime() {
    if (!audio) {
      try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    }
    if (audio.state === "suspended" && audio.resume) { audio.resume(); }
    var t0 = audio.currentTime + 0.05;
    for (var i = 0; i < 3; i++) {       // ding-dong, three times
      tone(audio, 1318.5, t0 + i * 1.4, 0.45);
      tone(audio, 1046.5, t0 + i * 1.4 + 0.45, 0.7);
    }
  }

  function alertTurn() {
    window.__phone.alerts += 1;
    if (navigator.vibrate) { navigator.vibrate([600, 250, 600, 250, 1200]); }
    chime();
  }

  $("sound").addEventListener("click", function () {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.resume) { audio.resume(); }
      tone(audio, 1318.5, audio.currentTime + 0.02, 0.3);
    } catch (e) { /* no Web Audio here: vibration and the banner still work */ }
    this.textContent = init.sound_ready;
    this.classList.add("on");
  });

  function connect() {
    var es = new EventSource(init.events);
    es.addEventListener("visit", function (e) { apply(JSON.parse(e.data)); });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) { setTimeout(connect, 20000 + Math.random() * 20000); }
    };
  }
  connect();
})();
