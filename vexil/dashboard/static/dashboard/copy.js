// Copy buttons: <button data-copy="ID" hidden> copies the value of the element ID. They stay
// hidden without JavaScript; the value is in a read-only field the user can select anyway.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(field.value);
      const status = document.getElementById(button.dataset.copy + "-status");
      if (status) status.textContent = "Copied.";
    });
  }
});
