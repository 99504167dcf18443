// reviewflow: the search page's script. It reads the prebuilt index under search/ (see
// reviewflow/publish/search.py): the manifest, then only the shards of the query's terms and the
// doc chunks of the results it shows. No other request; every result string goes in as text.
"use strict";

(function () {
  var STOP_WORDS = new Set(("a an and are as at be but by can do for from has have if in into is it its may no not of on or " +
    "our so than that the their them then there these they this to was we were what when which who " +
    "will with you your").split(" "));
  var SHOWN = 50;
  var PAGE = /^articles\/[a-z0-9][a-z0-9-]*\/index\.html$/;

  var form = document.getElementById("search-form");
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var root = form.getAttribute("data-root");

  function stem(word) {
    if (word.length > 4 && word.endsWith("ies")) return word.slice(0, -3) + "y";
    if (word.length > 3 && word.endsWith("s") && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
    return word;
  }

  function terms(text) {
    var words = text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];
    return words.filter(function (w) { return w.length >= 2 && w.length <= 40 && !STOP_WORDS.has(w) && !/^\p{N}+$/u.test(w); })
      .map(stem);
  }

  function hex(text) {
    return Array.from(new TextEncoder().encode(text), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  var cache = new Map();
  function load(path) {
    if (!cache.has(path)) {
      cache.set(path, fetch(root + "search/" + path).then(function (response) {
        if (!response.ok) throw new Error(path + ": " + response.status);
        return response.json();
      }));
    }
    return cache.get(path);
  }

  // The shards that can hold TERM (and, for the last word typed, the words it begins).
  function shardsFor(term, keys, prefix) {
    var found = [];
    for (var length = term.length; length > 0; length--) {
      if (keys.has(term.slice(0, length))) { found.push(term.slice(0, length)); break; }
    }
    if (prefix) {
      var longer = Array.from(keys).filter(function (k) { return k.length > term.length && k.startsWith(term); });
      if (longer.length <= 8) found = found.concat(longer);
    }
    return found;
  }

  // article number -> score, for one query term: weight times how rare the term is.
  function scores(term, prefix, shards, articles) {
    var result = new Map();
    shards.forEach(function (shard) {
      Object.keys(shard).forEach(function (word) {
        if (word !== term && !(prefix && word.startsWith(term))) return;
        var postings = shard[word];
        var rarity = Math.log(1 + articles / (postings.length / 2));
        for (var i = 0; i < postings.length; i += 2) {
          var score = postings[i + 1] * rarity * (word === term ? 1 : 0.5);
          result.set(postings[i], Math.max(result.get(postings[i]) || 0, score));
        }
      });
    });
    return result;
  }

  function rank(query, manifest) {
    var wanted = terms(query);
    var keys = new Set(manifest.shards);
    return Promise.all(wanted.map(function (term, index) {
      var prefix = index === wanted.length - 1;
      return Promise.all(shardsFor(term, keys, prefix).map(function (key) { return load("terms/" + hex(key) + ".json"); }))
        .then(function (shards) { return scores(term, prefix, shards, manifest.articles); });
    })).then(function (perTerm) {
      if (perTerm.length === 0) return [];
      var total = new Map(perTerm[0]);
      perTerm.slice(1).forEach(function (next) {  // every word must match
        total.forEach(function (score, article) {
          if (next.has(article)) total.set(article, score + next.get(article));
          else total.delete(article);
        });
      });
      return Array.from(total).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
    });
  }

  function show(query, manifest, ranked) {
    var top = ranked.slice(0, SHOWN);
    var chunks = Array.from(new Set(top.map(function (r) { return Math.floor(r[0] / manifest.docChunk); })));
    return Promise.all(chunks.map(function (n) { return load("docs/" + n + ".json"); })).then(function (loaded) {
      var docs = new Map();
      chunks.forEach(function (n, i) { docs.set(n, loaded[i]); });
      list.replaceChildren();
      top.forEach(function (r) {
        var doc = docs.get(Math.floor(r[0] / manifest.docChunk))[r[0] % manifest.docChunk];
        if (!doc || !PAGE.test(doc[0])) return;
        var item = document.createElement("li");
        item.className = "card";
        var heading = document.createElement("h2");
        var link = document.createElement("a");
        link.setAttribute("href", root + doc[0]);
        link.textContent = doc[1];
        heading.appendChild(link);
        item.appendChild(heading);
        if (doc[3]) {
          var audience = document.createElement("p");
          audience.className = "meta";
          audience.textContent = "For " + doc[3].toLowerCase();
          item.appendChild(audience);
        }
        var summary = document.createElement("p");
        summary.textContent = doc[2];
        item.appendChild(summary);
        list.appendChild(item);
      });
      var count = ranked.length;
      status.textContent = count === 0 ? "No articles match \u201c" + query + "\u201d." :
        (count === 1 ? "1 article matches" : count + " articles match") + " \u201c" + query + "\u201d" +
        (count > SHOWN ? "; the first " + SHOWN + " are shown." : ".");
    });
  }

  function search(query) {
    query = query.trim();
    list.replaceChildren();
    if (!query) { status.textContent = ""; return; }
    if (terms(query).length === 0) { status.textContent = "Type a word that an article might contain."; return; }
    status.textContent = "Searching\u2026";
    load("index.json").then(function (manifest) {
      return rank(query, manifest).then(function (ranked) { return show(query, manifest, ranked); });
    }).catch(function () {
      status.textContent = "";
      document.getElementById("search-fallback").hidden = false;
    });
  }

  form.hidden = false;
  var query = new URLSearchParams(location.search).get("q") || "";
  input.value = query;
  search(query);
})();
