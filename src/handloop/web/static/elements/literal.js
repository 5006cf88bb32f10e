// Attribute values as AWS's elements read them: JSON, or a JavaScript literal (single
// quotes, bare keys, trailing commas, comments), else the plain text.

export function parseLiteral(text) {
  var i = 0;
  var s = String(text);
  function ws() {
    while (i < s.length) {
      if (/\s/.test(s[i])) i++;
      else if (s.startsWith("//", i)) { while (i < s.length && s[i] !== "\n") i++; }
      else if (s.startsWith("/*", i)) { var e = s.indexOf("*/", i + 2); i = e < 0 ? s.length : e + 2; }
      else break;
    }
  }
  function fail() { throw new SyntaxError("not a literal at " + i); }
  function str() {
    var q = s[i++], out = "";
    while (i < s.length && s[i] !== q) {
      if (s[i] === "\\") {
        var c = s[i + 1];
        var map = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
        if (c === "u") { out += String.fromCharCode(parseInt(s.substr(i + 2, 4), 16)); i += 6; }
        else if (c === "x") { out += String.fromCharCode(parseInt(s.substr(i + 2, 2), 16)); i += 4; }
        else if (c === "\n") { i += 2; }
        else { out += map[c] !== undefined ? map[c] : c; i += 2; }
      } else out += s[i++];
    }
    if (s[i] !== q) fail();
    i++;
    return out;
  }
  function ident() {
    var m = /^[A-Za-z_$][\w$-]*/.exec(s.slice(i));
    if (!m) fail();
    i += m[0].length;
    return m[0];
  }
  function value() {
    ws();
    var c = s[i];
    if (c === "[") {
      i++;
      var arr = [];
      for (;;) {
        ws();
        if (s[i] === "]") { i++; return arr; }
        if (s[i] === ",") { i++; continue; }
        arr.push(value());
        ws();
        if (s[i] === ",") i++;
        else if (s[i] !== "]") fail();
      }
    }
    if (c === "{") {
      i++;
      var obj = {};
      for (;;) {
        ws();
        if (s[i] === "}") { i++; return obj; }
        if (s[i] === ",") { i++; continue; }
        var key = s[i] === '"' || s[i] === "'" ? str() : /[\d.-]/.test(s[i]) ? String(number()) : ident();
        ws();
        if (s[i] !== ":") fail();
        i++;
        obj[key] = value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] !== "}") fail();
      }
    }
    if (c === '"' || c === "'" || c === "`") return str();
    if (/[\d.+-]/.test(c)) return number();
    var word = ident();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null" || word === "undefined") return null;
    fail();
  }
  function number() {
    var m = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(s.slice(i));
    if (!m) fail();
    i += m[0].length;
    return Number(m[0]);
  }
  var result = value();
  ws();
  if (i < s.length) fail();
  return result;
}

export function lenient(text, fallback) {
  if (text === null || text === undefined) return fallback;
  var t = String(text).trim();
  if (!t) return fallback;
  try { return JSON.parse(t); } catch { /* try a JavaScript literal */ }
  try { return parseLiteral(t); } catch { /* plain text */ }
  return t;
}

export function asList(value) {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined || value === "") return [];
  if (typeof value === "string") return value.split(",").map(function (x) { return x.trim(); }).filter(Boolean);
  return [value];
}
