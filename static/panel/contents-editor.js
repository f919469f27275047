// Contents lines ([{"currency"|"sku": code, "quantity": n}]) as rows: what, which, how many.
// The JSON textarea stays the form's field: each change writes it; "Edit as JSON" shows it.
(function () {
  "use strict";

  function gameOf(textarea) {
    if (textarea.dataset.gpGame) return textarea.dataset.gpGame;
    const select = document.querySelector("#id_game");
    return select ? select.value : "";
  }

  function codesFor(catalog, game, kind) {
    if (game && catalog[game]) return catalog[game][kind] || [];
    const all = new Set();
    Object.values(catalog).forEach((entry) => (entry[kind] || []).forEach((code) => all.add(code)));
    return [...all].sort();
  }

  function parse(text) {
    if (!text.trim()) return [];
    const value = JSON.parse(text);
    if (!Array.isArray(value)) throw new Error("not a list");
    return value.map((line) => {
      const keys = Object.keys(line || {});
      if (keys.some((key) => !["currency", "sku", "quantity"].includes(key))) {
        throw new Error("other lines");
      }
      const kind = "sku" in line ? "sku" : "currency";
      return { kind: kind, code: String(line[kind] ?? ""), quantity: line.quantity };
    });
  }

  function option(value, label, selected) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    element.selected = selected;
    return element;
  }

  function enhance(textarea) {
    if (textarea.dataset.gpEnhanced) return;
    if (textarea.name.includes("__prefix__")) return; // the inline's hidden template row
    textarea.dataset.gpEnhanced = "1";
    const catalog = JSON.parse(textarea.dataset.gpCatalog || "{}");
    const maxQuantity = Number(textarea.dataset.gpMaxQuantity || "1000000000000");
    const editor = document.createElement("div");
    editor.className = "gp-contents";
    const rows = document.createElement("div");
    rows.className = "gp-contents-rows";
    const add = document.createElement("button");
    add.type = "button";
    add.textContent = "Add a line";
    add.className = "gp-contents-add";
    const rawLabel = document.createElement("label");
    rawLabel.className = "gp-contents-raw";
    const raw = document.createElement("input");
    raw.type = "checkbox";
    rawLabel.append(raw, " Edit as JSON");
    const problem = document.createElement("span");
    problem.className = "errornote gp-contents-problem";
    problem.hidden = true;
    editor.append(rows, add, rawLabel, problem);
    textarea.after(editor);

    function write() {
      const lines = [...rows.querySelectorAll(".gp-contents-row")].map((row) => {
        const kind = row.querySelector(".gp-kind").value;
        const quantity = Number(row.querySelector(".gp-quantity").value);
        return { [kind]: row.querySelector(".gp-code").value, quantity: quantity };
      });
      textarea.value = lines.length ? JSON.stringify(lines) : "[]";
    }

    function fillCodes(row, kind, selected) {
      const codes = codesFor(catalog, gameOf(textarea), kind);
      const select = row.querySelector(".gp-code");
      select.replaceChildren(option("", "— pick —", false));
      codes.forEach((code) => select.append(option(code, code, code === selected)));
      if (selected && !codes.includes(selected)) {
        select.append(option(selected, `${selected} (not in this game)`, true));
      }
    }

    function addRow(line) {
      const row = document.createElement("div");
      row.className = "gp-contents-row";
      const kind = document.createElement("select");
      kind.className = "gp-kind";
      kind.setAttribute("aria-label", "Currency or item");
      kind.append(option("currency", "Currency", line.kind === "currency"));
      kind.append(option("sku", "Item", line.kind === "sku"));
      const code = document.createElement("select");
      code.className = "gp-code";
      code.setAttribute("aria-label", "Which");
      const quantity = document.createElement("input");
      quantity.type = "number";
      quantity.min = "1";
      quantity.max = String(maxQuantity);
      quantity.step = "1";
      quantity.required = true;
      quantity.className = "gp-quantity";
      quantity.setAttribute("aria-label", "Quantity");
      quantity.value = line.quantity ?? 1;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.className = "gp-contents-remove";
      row.append(kind, code, quantity, remove);
      rows.append(row);
      fillCodes(row, line.kind, line.code);
      kind.addEventListener("change", () => { fillCodes(row, kind.value, ""); write(); });
      code.addEventListener("change", write);
      quantity.addEventListener("input", write);
      remove.addEventListener("click", () => { row.remove(); write(); });
    }

    function showRows() {
      let lines;
      try {
        lines = parse(textarea.value);
      } catch (error) {
        problem.textContent = error.message === "other lines"
          ? "These contents have lines the row editor does not show (e.g. a battle-pass premium pass): edit them as JSON."
          : "This JSON is not a list of lines; fix it here or clear it.";
        problem.hidden = false;
        raw.checked = true;
        textarea.hidden = false;
        rows.hidden = add.hidden = true;
        return;
      }
      problem.hidden = true;
      rows.replaceChildren();
      lines.forEach(addRow);
      textarea.hidden = true;
      rows.hidden = add.hidden = false;
    }

    add.addEventListener("click", () => { addRow({ kind: "currency", code: "", quantity: 1 }); write(); });
    raw.addEventListener("change", () => {
      if (raw.checked) {
        textarea.hidden = false;
        rows.hidden = add.hidden = true;
      } else {
        showRows();
      }
    });
    const game = document.querySelector("#id_game");
    if (game && !textarea.dataset.gpGame) {
      game.addEventListener("change", () => {
        rows.querySelectorAll(".gp-contents-row").forEach((row) => {
          fillCodes(row, row.querySelector(".gp-kind").value, row.querySelector(".gp-code").value);
        });
      });
    }
    showRows();
  }

  function enhanceAll(root) {
    root.querySelectorAll("textarea[data-gp-contents]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", () => enhanceAll(document));
  document.addEventListener("formset:added", (event) => enhanceAll(event.target));
})();
