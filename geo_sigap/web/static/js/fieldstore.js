/* GeoSIGAP field app — what must survive a lost signal or a closed page, kept in IndexedDB:
 * the outbox of actions (status steps, reports with their photos, positions) in the order
 * they were made, the last good copy of the assignments, and drafts of reports. */
(function () {
  "use strict";
  const DB = "sigap-lapangan", VERSION = 1;
  let dbp = null;

  function open() {
    if (dbp) return dbp;
    dbp = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv", { keyPath: "k" });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return dbp;
  }

  function tx(store, mode, fn) {
    return open().then((db) => new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const s = t.objectStore(store);
      let out;
      Promise.resolve(fn(s)).then((v) => { out = v; });
      t.oncomplete = () => resolve(out);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error("aborted"));
    }));
  }
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });

  const Outbox = {
    /** Add an action; returns it with its sequence number. */
    async add(item) {
      item = Object.assign({ state: "waiting", created_at: new Date().toISOString(), tries: 0 }, item);
      const seq = await tx("outbox", "readwrite", (s) => req(s.add(item)));
      item.seq = seq;
      return item;
    },
    all() { return tx("outbox", "readonly", (s) => req(s.getAll())); },
    put(item) { return tx("outbox", "readwrite", (s) => req(s.put(item))); },
    remove(seq) { return tx("outbox", "readwrite", (s) => req(s.delete(seq))); },
    /** Keep at most `max` waiting positions (the oldest go first); actions are never dropped. */
    async trimPositions(max) {
      const items = (await this.all()).filter((i) => i.kind === "position" && i.state === "waiting");
      for (const i of items.slice(0, Math.max(0, items.length - max))) await this.remove(i.seq);
    },
  };

  const KV = {
    async get(k) { const r = await tx("kv", "readonly", (s) => req(s.get(k))); return r ? r.v : undefined; },
    set(k, v) { return tx("kv", "readwrite", (s) => req(s.put({ k, v }))); },
    del(k) { return tx("kv", "readwrite", (s) => req(s.delete(k))); },
  };

  window.SIGAP_STORE = { Outbox, KV, open };
})();
