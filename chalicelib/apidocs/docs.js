// Renders the OpenAPI document served beside this page: no framework, no CDN.
"use strict";
(function () {
  const main = document.getElementById("ops");
  const el = (tag, attrs, ...kids) => {
    const n = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => n.setAttribute(k, v));
    kids.flat().forEach((k) => n.append(k instanceof Node ? k : document.createTextNode(String(k))));
    return n;
  };
  const refName = (s) => (s && s.$ref ? s.$ref.split("/").pop() : null);
  const schemaBlock = (doc, name) => {
    const schema = doc.components.schemas[name];
    return el("details", {}, el("summary", {}, "Schema ", el("code", {}, name)),
      el("pre", {}, JSON.stringify(schema, null, 2)));
  };
  fetch("openapi.json").then((r) => r.json()).then((doc) => {
    main.textContent = "";
    const byTag = {};
    Object.entries(doc.paths).forEach(([path, methods]) => {
      Object.entries(methods).forEach(([method, op]) => {
        (byTag[op.tags[0]] = byTag[op.tags[0]] || []).push([path, method, op]);
      });
    });
    Object.entries(byTag).forEach(([tag, ops]) => {
      const section = el("section", { "aria-labelledby": "tag-" + tag }, el("h2", { id: "tag-" + tag }, tag));
      ops.forEach(([path, method, op]) => {
        const sec = (op.security || []).map((s) => Object.keys(s)[0]).join(", ");
        const d = el("details", {}, el("summary", {},
          el("span", { class: "method " + method }, method.toUpperCase()), " ", el("code", {}, path), " – ", op.summary,
          sec ? el("span", { class: "lock" }, " (" + sec + ")") : ""));
        if (op.parameters && op.parameters.length) {
          const rows = op.parameters.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
            el("td", {}, p.required ? "required" : "optional"), el("td", {}, p.description || "")));
          d.append(el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"),
            el("th", {}, ""), el("th", {}, "description"))), el("tbody", {}, rows)));
        }
        if (op.requestBody) {
          const name = refName(op.requestBody.content["application/json"].schema);
          d.append(el("p", {}, "Request body: ", el("code", {}, name)), schemaBlock(doc, name));
        }
        const rows = Object.entries(op.responses).map(([code, r]) => {
          const types = Object.keys(r.content || {});
          const name = types.length ? refName(r.content[types[0]].schema) : null;
          return el("tr", {}, el("td", {}, code), el("td", {}, r.description), el("td", {}, types.join(", ")),
            el("td", {}, name ? el("code", {}, name) : ""));
        });
        d.append(el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "meaning"),
          el("th", {}, "type"), el("th", {}, "schema"))), el("tbody", {}, rows)));
        section.append(d);
      });
    });
    main.append(section_footer(doc));
  }).catch(() => { main.textContent = "The OpenAPI document could not be loaded. Reload the page to try again."; });
  function section_footer(doc) {
    const s = doc.components.securitySchemes;
    return el("section", { "aria-labelledby": "auth" }, el("h2", { id: "auth" }, "authentication"),
      el("ul", {}, Object.entries(s).map(([k, v]) => el("li", {}, el("code", {}, k), ": ", v.description))));
  }
})();
