/* Citizen feedback pages: a character counter beside each limited text, a copy button for the
   tracking code. Progressive enhancement: without this script the limits are stated beside
   each field and the server refuses (and gives back) a text that is too long. */
(function () {
  "use strict";
  var d = document, s = d.currentScript, texts = JSON.parse(s.dataset.texts || "{}"),
    lang = d.documentElement.lang,
    rules = window.Intl && Intl.PluralRules && new Intl.PluralRules(lang),
    numbers = window.Intl && new Intl.NumberFormat(lang);

  function say(forms, n) {
    var form = forms[rules && rules.select(n) === "one" ? 0 : 1];
    return form.replace("%(num)s", numbers ? numbers.format(n) : String(n));
  }

  d.querySelectorAll("[data-maxlength]").forEach(function (input) {
    var max = parseInt(input.dataset.maxlength, 10), shown = d.createElement("p"),
      spoken = d.createElement("p"), timer = 0;
    shown.className = "char-count muted";
    shown.setAttribute("aria-hidden", "true");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", shown);
    shown.insertAdjacentElement("afterend", spoken);
    function update() {
      var left = max - input.value.length, over = left < 0;
      shown.textContent = over ? say(texts.over, -left) : say(texts.left, left);
      shown.classList.toggle("char-count-over", over);
      clearTimeout(timer);
      // Screen readers hear the count once typing pauses, not at every key.
      timer = setTimeout(function () { spoken.textContent = shown.textContent; }, 1000);
    }
    input.addEventListener("input", update);
    update();
    spoken.textContent = "";
  });

  if (!(navigator.clipboard && window.isSecureContext)) { return; }
  d.querySelectorAll("[data-copy]").forEach(function (box) {
    var source = d.getElementById(box.dataset.copy), button = d.createElement("button"),
      status = d.createElement("span");
    if (!source) { return; }
    button.type = "button";
    button.className = "button-secondary copy-button";
    button.textContent = texts.copy;
    status.className = "copy-status";
    status.setAttribute("role", "status");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        status.textContent = texts.copied;
      }, function () {
        status.textContent = texts.copy_failed;
      });
    });
    box.appendChild(button);
    box.appendChild(status);
  });
}());
