// Multivariate weights checked while typing: the weights of one form must total 100% or less.
// The server checks the same rule again on save. A file of its own, because the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function total(form) {
    var sum = 0;
    form.querySelectorAll("input[data-weight]").forEach(function (input) {
      var value = parseFloat(input.value);
      if (!isNaN(value)) sum += value;
    });
    return Math.round(sum * 1e6) / 1e6;
  }

  function check(form) {
    var sum = total(form);
    var over = sum > 100;
    var message = over ? "Weights must total 100% or less (they total " + sum + "%)." : "";
    form.querySelectorAll("input[data-weight]").forEach(function (input) {
      input.setCustomValidity(message);
      if (over) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
    var status = form.querySelector("[data-weights-total]");
    if (status) {
      status.textContent = over ? message : "The weights total " + sum + "%.";
      status.classList.toggle("error", over);
    }
    return !over;
  }

  function weightsForm(target) {
    return target && target.closest ? target.closest("form[data-weights]") : null;
  }

  document.addEventListener("input", function (event) {
    var form = weightsForm(event.target);
    if (form) check(form);
  });
  document.addEventListener("submit", function (event) {
    var form = weightsForm(event.target);
    if (form && !check(form)) {
      event.preventDefault();
      form.querySelector("input[data-weight]").focus();
    }
  });
  document.querySelectorAll("form[data-weights]").forEach(check);
})();
