// The frame player: steps through an animation's frames, which sit side by side on one
// sprite sheet (see _ext/frame_player.py for the markup).  Nothing moves until the reader
// presses Play; a play runs through the frames once and stops on the last.
"use strict";

(function () {
  function mount(player) {
    const frames = JSON.parse(player.dataset.frames);
    const columns = Number(player.dataset.columns);
    const rows = Number(player.dataset.rows);
    const frameMs = Number(player.dataset.frameMs);
    const sheet = player.querySelector(".frame-player-sheet");
    const controls = player.querySelector(".frame-player-controls");
    const play = player.querySelector(".frame-player-play");
    const previous = player.querySelector(".frame-player-previous");
    const next = player.querySelector(".frame-player-next");
    const slider = player.querySelector(".frame-player-slider");
    const status = player.querySelector(".frame-player-status");
    const last = frames.length - 1;
    let current = 0;
    let timer = null;

    function show(index) {
      current = Math.max(0, Math.min(last, index));
      const column = current % columns;
      const row = Math.floor(current / columns);
      sheet.style.transform = `translate(${(-100 * column) / columns}%, ${(-100 * row) / rows}%)`;
      slider.value = String(current);
      slider.setAttribute("aria-valuetext", frames[current].label);
      status.textContent = frames[current].text;
      player.dataset.frame = String(current);
      previous.disabled = current === 0;
      next.disabled = current === last;
    }

    function pause() {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
      play.textContent = "Play";
      status.setAttribute("aria-live", "polite");
      player.classList.remove("frame-player-playing");
    }

    function start() {
      if (current === last) show(0);
      play.textContent = "Pause";
      // frame after frame would flood a screen reader; the text is read again on pause
      status.setAttribute("aria-live", "off");
      player.classList.add("frame-player-playing");
      timer = setInterval(function () {
        show(current + 1);
        if (current === last) pause();
      }, frameMs);
    }

    play.addEventListener("click", function () {
      if (timer === null) start();
      else pause();
    });
    previous.addEventListener("click", function () {
      pause();
      show(current - 1);
    });
    next.addEventListener("click", function () {
      pause();
      show(current + 1);
    });
    slider.addEventListener("input", function () {
      pause();
      show(Number(slider.value));
    });
    controls.hidden = false;
    show(0);
  }

  function mountAll() {
    document.querySelectorAll(".frame-player").forEach(mount);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
