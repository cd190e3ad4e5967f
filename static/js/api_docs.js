// /api/docs/ (Redoc). Redoc's menu footer shows Redocly's logo from their CDN, which our CSP (images from our
// origin only) blocks with a console error on every visit, and which would tell a third party who reads our docs.
// Redoc has no option to leave it out, so this swaps that one image source for our own logo before the request is
// made (whether React sets it as an attribute or a property). Loaded before Redoc's bundle, on this page only.
(function () {
  var script = document.currentScript;
  var logo = script && script.getAttribute("data-logo");
  function local(value) { return /^https:\/\/cdn\.redoc\.ly\//.test(String(value)) ? logo || "" : value; }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, name === "src" && this.tagName === "IMG" ? local(value) : value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) { src.set.call(this, local(value)); }
  });
})();
