// Progressive enhancement only: every page works without this file.
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: the page loads this file as a classic script, not a module, so the directive is not implied.
  "use strict";

  const COPIED_FOR_MS = 2000;

  // The stylesheet shows script-only controls (copy buttons) once this class is present.
  document.documentElement.classList.add("js");

  // A protocol message on its way to the identity provider by POST (SAML HTTP-POST binding):
  // sent at once; without this script the person presses Continue.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    if (form instanceof HTMLFormElement) form.submit();
  }

  /** One polite live region for the whole page, created on first use. */
  let liveRegion = null;
  function announce(message) {
    if (!liveRegion) {
      liveRegion = document.createElement("div");
      liveRegion.className = "sr-only";
      liveRegion.setAttribute("aria-live", "polite");
      liveRegion.setAttribute("role", "status");
      document.body.append(liveRegion);
    }
    // Clearing first makes screen readers repeat an identical message on a second click.
    liveRegion.textContent = "";
    window.setTimeout(() => {
      liveRegion.textContent = message;
    }, 50);
  }

  function findTarget(selector) {
    if (!selector) return null;
    try {
      return document.querySelector(selector);
    } catch {
      return null;
    }
  }

  // ---------- Copy buttons: <button type="button" data-copy="#element-id"> ----------

  const labels = new WeakMap();
  const timers = new WeakMap();

  function isTextControl(element) {
    return element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement;
  }

  function textOf(element) {
    return isTextControl(element) ? element.value : (element.textContent ?? "").trim();
  }

  function selectContents(element) {
    if (isTextControl(element)) {
      element.focus();
      element.select();
      return;
    }
    const selection = window.getSelection();
    if (!selection) return;
    const range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function showFeedback(button, text, message) {
    if (!labels.has(button)) labels.set(button, button.textContent);
    window.clearTimeout(timers.get(button));
    button.textContent = text;
    button.setAttribute("data-copied", "");
    announce(message);
    timers.set(
      button,
      window.setTimeout(() => {
        button.textContent = labels.get(button) ?? "Copy";
        button.removeAttribute("data-copied");
      }, COPIED_FOR_MS),
    );
  }

  // The async Clipboard API exists only in secure contexts; plain-http deployments get the
  // legacy copy command, and failing that the text is left selected for the person to copy.
  function legacyCopy(element) {
    selectContents(element);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }

  async function copy(button) {
    const target = findTarget(button.getAttribute("data-copy"));
    if (!target) return;
    const text = textOf(target);
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        showFeedback(button, "Copied", "Copied to the clipboard");
        return;
      } catch {
        // Permission refused: fall through to the legacy path.
      }
    }
    if (legacyCopy(target)) {
      // Selecting moved focus into the field; keyboard users continue from the button.
      button.focus();
      showFeedback(button, "Copied", "Copied to the clipboard");
    } else {
      showFeedback(button, "Selected", "Text selected: press Control C or Command C to copy");
    }
  }

  // ---------- Dialogs: <a href="/confirm" data-dialog="#dialog-id"> ----------

  const openers = new WeakMap();

  function openDialog(trigger, event) {
    const dialog = findTarget(trigger.getAttribute("data-dialog"));
    if (!(dialog instanceof HTMLDialogElement) || typeof dialog.showModal !== "function") return;
    // Only now is it certain the dialog can open; otherwise the link's confirmation page is used.
    event.preventDefault();
    if (dialog.open) return;
    openers.set(dialog, trigger);
    dialog.showModal();
  }

  function closeDialog(dialog) {
    if (dialog.open) dialog.close("cancel");
  }

  document.addEventListener(
    "close",
    (event) => {
      const dialog = event.target;
      if (!(dialog instanceof HTMLDialogElement)) return;
      const opener = openers.get(dialog);
      openers.delete(dialog);
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    true,
  );

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    if (event.defaultPrevented || event.button !== 0) return;

    const copyButton = event.target.closest("button[data-copy]");
    if (copyButton) {
      event.preventDefault();
      void copy(copyButton);
      return;
    }

    const trigger = event.target.closest("[data-dialog]");
    if (trigger) {
      // Modified clicks keep their usual meaning (open the confirmation page in a new tab).
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      openDialog(trigger, event);
      return;
    }

    const dialog = event.target.closest("dialog");
    if (!(dialog instanceof HTMLDialogElement) || !dialog.open) return;

    // Cancel must never submit the form nor trip its validation.
    const cancel = event.target.closest('[data-close], button[formmethod="dialog"]');
    if (cancel && dialog.contains(cancel)) {
      event.preventDefault();
      closeDialog(dialog);
      return;
    }

    // A click on the backdrop lands on the dialog element itself, outside its box.
    if (event.target === dialog) {
      const box = dialog.getBoundingClientRect();
      const inside =
        event.clientX >= box.left &&
        event.clientX <= box.right &&
        event.clientY >= box.top &&
        event.clientY <= box.bottom;
      if (!inside) closeDialog(dialog);
    }
  });
})();
