// Game picker: jump to the same page of the chosen game (the Go button works without this).
(function () {
  const select = document.getElementById("gp-game");
  if (!select) return;
  const button = select.form.querySelector("button");
  if (button) button.hidden = true;
  select.addEventListener("change", function () {
    window.location = select.dataset.url.replace("/0/", "/" + select.value + "/");
  });
})();
