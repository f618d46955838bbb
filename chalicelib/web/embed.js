// Social media maturity check: the partner's embed snippet (docs/PARTNERS.md).
//
//   <script src="https://<api>/static/embed.js" data-partner="smmp_..." async></script>
//
// creates an <iframe> of <api>/embed right after the script tag (or inside data-target), sized
// to its content. Attributes: data-partner (publishable key smmp_..., or the partner id p_...
// with data-client-secret for the session flow), data-lang (de|en), data-industry, data-size,
// data-country (option ids, prefilled), data-hide-prefilled ("true": do not show those
// questions), data-reference (your reference id, publishable-key flow), data-target (a CSS
// selector), data-title (the frame's accessible name).
//
// Events of the widget (postMessage, version 1) are re-dispatched on the frame's container as
// DOM CustomEvents "smm:<type>" whose detail is the message: ready, started, section_changed,
// submitted (assessment_id), result_shown, height_changed. Only messages from the widget's own
// origin and frame are accepted; messages to the widget go to that origin only.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var d = script.dataset;
  var src = new URL(script.src);
  var widgetOrigin = src.origin;
  var base = new URL('../', src); // embed.js lives in <api>/static/
  var partner = d.partner || '';
  if (!partner) {
    console.error('smm embed: data-partner (a publishable key smmp_... or partner id) is missing');
    return;
  }
  if (partner.indexOf('smmk_') === 0) {
    console.error('smm embed: never put a secret key (smmk_...) in a web page; use a publishable key');
    return;
  }
  var params = new URLSearchParams();
  params.set(partner.indexOf('smmp_') === 0 ? 'key' : 'partner', partner);
  params.set('origin', window.location.origin);
  var pass = { lang: 'lang', industry: 'industry', size: 'size', country: 'country', reference: 'reference', hidePrefilled: 'hide_prefilled' };
  Object.keys(pass).forEach(function (k) {
    if (d[k]) params.set(pass[k], d[k]);
  });
  var url = new URL('embed?' + params.toString(), base).href;
  if (d.clientSecret) url += '#client_secret=' + encodeURIComponent(d.clientSecret);

  var frame = document.createElement('iframe');
  frame.src = url;
  frame.title = d.title || 'Social media maturity check';
  frame.setAttribute('allow', 'clipboard-write');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.className = 'smm-embed-frame';
  frame.style.width = '100%';
  frame.style.border = '0';
  frame.style.display = 'block';
  frame.style.height = '640px';

  var container = document.createElement('div');
  container.className = 'smm-embed';
  container.appendChild(frame);
  var target = d.target ? document.querySelector(d.target) : null;
  if (target) target.appendChild(container);
  else script.parentNode.insertBefore(container, script.nextSibling);

  window.addEventListener('message', function (e) {
    if (e.origin !== widgetOrigin || e.source !== frame.contentWindow) return;
    var m = e.data;
    if (!m || typeof m !== 'object' || m.source !== 'smm-widget' || m.version !== 1) return;
    if (m.type === 'height_changed' && typeof m.height === 'number' && m.height > 0) {
      frame.style.height = Math.ceil(m.height) + 'px';
    }
    container.dispatchEvent(new CustomEvent('smm:' + m.type, { detail: m, bubbles: true }));
  });

  /** Talk to the widget: smmEmbed.send('set_language', {language: 'de'}). */
  container.smmEmbed = {
    frame: frame,
    send: function (type, data) {
      var msg = Object.assign({ source: 'smm-host', version: 1, type: type }, data || {});
      if (frame.contentWindow) frame.contentWindow.postMessage(msg, widgetOrigin);
    },
  };
})();
