// Nông Sản: a little JavaScript that only improves pages that work without it.
"use strict";
(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // Search as you type: the server renders the results, this swaps them in.
  $$("form[data-live]").forEach((form) => {
    const results = $("#results");
    let timer = 0;
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const query = new URLSearchParams(new FormData(form));
        history.replaceState(null, "", form.action + "?" + query);
        query.set("partial", "1");
        fetch(form.action + "?" + query, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
          .then((html) => { results.innerHTML = html; })
          .catch(() => undefined);
      }, 300);
    });
  });

  // Quantity steppers: − and + beside a number.
  $$("[data-step]").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const input = button.parentElement.querySelector("input");
      const next = (parseInt(input.value, 10) || 0) + parseInt(button.dataset.step, 10);
      const min = parseInt(input.min || "1", 10);
      const max = parseInt(input.max || "100000", 10);
      input.value = String(Math.min(max, Math.max(min, next)));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  // A question before what cannot be undone (cancelling an order, rejecting one).
  $$("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // A basket quantity changed with − and + is saved at once.
  $$("input[data-autosubmit]").forEach((input) => {
    input.addEventListener("change", () => input.form.requestSubmit($("button[value=set]", input.form)));
  });

  // The commune, found by typing a few letters without accents.
  $$("input[data-wards]").forEach((input) => {
    const code = $("input[name=ward_code]", input.form);
    const list = document.createElement("div");
    list.className = "choices";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent : input.name);
    input.after(list);
    let timer = 0;
    input.addEventListener("input", () => {
      code.value = "";
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { list.replaceChildren(); return; }
      timer = setTimeout(() => {
        fetch("/api/v1/wards?limit=6&q=" + encodeURIComponent(q))
          .then((response) => response.json())
          .then((page) => {
            list.replaceChildren(...page.items.map((ward) => {
              const choice = document.createElement("button");
              choice.type = "button";
              choice.className = "choice";
              choice.setAttribute("role", "option");
              choice.textContent = ward.name + ", " + ward.province.name;
              choice.addEventListener("click", () => {
                input.value = choice.textContent;
                code.value = String(ward.code);
                list.replaceChildren();
                input.dispatchEvent(new Event("change", { bubbles: true }));
              });
              return choice;
            }));
          })
          .catch(() => undefined);
      }, 250);
    });
  });

  // A photo shows as soon as it is taken.
  $$("input[type=file][data-preview]").forEach((input) => {
    const preview = $(input.dataset.preview);
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file && preview) {
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
      }
    });
  });

  // The PIN keypad: big digits typed into the PIN field.
  $$("[data-keypad]").forEach((pad) => {
    const field = $(pad.dataset.keypad);
    pad.hidden = false;
    $$("button[data-key]", pad).forEach((key) => {
      key.addEventListener("click", (event) => {
        event.preventDefault();
        const digit = key.dataset.key;
        if (digit === "del") {
          field.value = field.value.slice(0, -1);
        } else if (field.value.length < 6) {
          field.value += digit;
        }
        field.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  });

  // Installable and usable offline: the service worker keeps pages, and keeps the forms a farmer sends while the
  // network is down (a listing, an answer to an order) to send them once it is back. This part says what waits,
  // asks for the sending, and has everything forgotten at log-out.
  const worker = navigator.serviceWorker;
  if (worker) {
    worker.register("/sw.js").catch(() => undefined);
    const tell = (message) => worker.ready.then((registration) => registration.active && registration.active.postMessage(message));
    const box = $("[data-queue]");
    worker.addEventListener("message", (event) => {
      const queue = event.data;
      if (!box || !queue || queue.type !== "queue") { return; }
      const list = $("[data-queue-list]", box);
      const counts = {};
      queue.waiting.forEach((item) => { counts[item.kind] = (counts[item.kind] || 0) + 1; });
      list.textContent = Object.keys(counts).map((kind) => counts[kind] + " " + (list.dataset[kind] || kind)).join(", ");
      $("[data-queue-failed-list]", box).textContent = queue.failed.map((item) => item.label).join(", ");
      $("[data-queue-waiting]", box).hidden = !queue.waiting.length;
      $("[data-queue-failed]", box).hidden = !queue.failed.length;
      box.hidden = !queue.waiting.length && !queue.failed.length;
    });
    if (document.body.dataset.loggedOut !== undefined) {
      tell({ type: "log-out" });
    } else {
      const token = $("meta[name=csrf-token]");
      const flush = () => tell({ type: "flush", csrf: token ? token.content : "" });
      tell({ type: "status" });
      if (navigator.onLine) { flush(); }
      window.addEventListener("online", flush);
      $$("[data-queue-discard]").forEach((button) => button.addEventListener("click", () => tell({ type: "discard" })));
      // A farmer's own pages (not a helper's visit) are kept for offline use.
      const farm = $$(".bar a").map((link) => link.getAttribute("href")).filter((href) => href.startsWith("/farmer"));
      if (farm.length && navigator.onLine && !$(".acting")) { tell({ type: "keep", urls: farm }); }
    }
  }
})();
