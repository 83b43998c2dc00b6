// Nông Sản: a little JavaScript that only improves pages that work without it.
"use strict";
(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // Installable, and opens offline.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => undefined);
    if (document.body.dataset.loggedOut !== undefined && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("log-out");
    }
  }

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

  // Forms that wait on the phone while the network is down, and are sent once when it returns. Each carries
  // an Idempotency-Key, so a form sent twice (a dropped answer, a second tab) still counts once.
  const STORE = "queue";
  const openQueue = () => new Promise((resolve, reject) => {
    const request = indexedDB.open("nongsan", 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const inQueue = (mode, work) => openQueue().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && result.result);
    tx.onerror = () => reject(tx.error);
  }));
  const waiting = $("[data-queue]");
  const showQueue = () => inQueue("readonly", (store) => store.count()).then((count) => {
    if (!waiting) { return; }
    waiting.hidden = !count;
    $("[data-queue-count]", waiting).textContent = String(count || 0);
  }).catch(() => undefined);
  const send = (item) => {
    // Multipart only when a photo goes with it, as the form itself would post.
    let body = new URLSearchParams(item.fields.map(([name, value]) => [name, String(value)]));
    if (item.fields.some(([, value]) => value instanceof Blob)) {
      body = new FormData();
      item.fields.forEach(([name, value]) => body.append(name, value));
    }
    return fetch(item.url, { method: "POST", body, credentials: "same-origin", headers: { "Idempotency-Key": item.key } });
  };
  const flush = () => inQueue("readonly", (store) => store.getAll()).then((items) => items.reduce((done, item) =>
    done.then(() => send(item).then((response) => {
      if (response.ok || response.status < 500) {
        return inQueue("readwrite", (store) => store.delete(item.key));
      }
      return undefined;
    }).catch(() => undefined)), Promise.resolve())).then(showQueue).catch(() => undefined);
  $$("form[data-offline]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("input[name=idempotency_key]", form)?.value || String(Date.now()) + Math.random();
      const item = { key, url: form.action, fields: Array.from(new FormData(form).entries()) };
      send(item)
        .then((response) => { window.location.assign(response.url || form.action); })
        .catch(() => inQueue("readwrite", (store) => store.put(item)).then(showQueue));
    });
  });
  window.addEventListener("online", flush);
  if (navigator.onLine) { flush(); } else { showQueue(); }
})();
