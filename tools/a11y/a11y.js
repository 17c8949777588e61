// Accessible names for what the ipywidgets HTML manager renders without one (tools/a11y_ext.py):
// the slider handles get the slider's description, and the plot a widget draws gets alt text.
(function () {
  "use strict";
  function name(root) {
    root.querySelectorAll('[role="slider"]:not([aria-label])').forEach(function (handle) {
      var box = handle.closest(".widget-slider, .widget-hslider, .widget-vslider, .widget-inline-hbox");
      var label = box && box.querySelector(".widget-label");
      var text = label && label.textContent.trim();
      handle.setAttribute("aria-label", text ? "slider " + text : "slider");
    });
    root.querySelectorAll(".jp-RenderedImage > img:not([alt])").forEach(function (img) {
      img.setAttribute("alt", "The plot the interactive widget draws at its initial setting; " +
        "the static figure next to the widget shows the same.");
    });
  }
  var queued = false;
  new MutationObserver(function () {
    if (!queued) {
      queued = true;
      window.requestAnimationFrame(function () { queued = false; name(document); });
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", function () { name(document); });
})();
