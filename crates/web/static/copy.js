// Progressive enhancement: a Copy button next to every read-only field
// marked data-copy (the client link). Without script the field can be
// selected and copied by hand.
(function () {
  "use strict";
  document.querySelectorAll("input[data-copy]").forEach(function (input) {
    if (!navigator.clipboard) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = input.getAttribute("data-copy");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = input.getAttribute("data-copied");
      });
    });
    input.insertAdjacentElement("afterend", button);
  });
})();
