/* GeoSIGAP — photos made small on the phone before they are sent: the long side at most
 * 1600 px, JPEG quality 0.8 (a 12 MP camera photo becomes a few hundred KB, not 5 MB). */
(function () {
  "use strict";
  const MAX_SIDE = 1600, QUALITY = 0.8, KEEP_BELOW = 350 * 1024;

  async function decode(file) {
    if (window.createImageBitmap) {
      try { return await createImageBitmap(file, { imageOrientation: "from-image" }); }
      catch (e) { /* fall back to an <img> */ }
    }
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally { URL.revokeObjectURL(url); }
  }

  /** A JPEG Blob of `file` at most MAX_SIDE px on its long side (small JPEGs kept as they are). */
  async function shrink(file) {
    const img = await decode(file);
    const w = img.width, h = img.height;
    const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    if (scale === 1 && file.type === "image/jpeg" && file.size <= KEEP_BELOW) return file;
    const cw = Math.max(1, Math.round(w * scale)), ch = Math.max(1, Math.round(h * scale));
    const canvas = document.createElement("canvas");
    canvas.width = cw; canvas.height = ch;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, cw, ch); // transparent PNG → white, not black
    ctx.drawImage(img, 0, 0, cw, ch);
    if (img.close) img.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
    if (!blob) throw new Error("foto");
    return blob;
  }

  /** [{name, blob, size, original_size}] for the chosen files, in order. */
  async function shrinkAll(files) {
    const out = [];
    for (const f of Array.from(files || [])) {
      const blob = await shrink(f);
      const base = (f.name || "foto").replace(/\.[^.]+$/, "");
      out.push({ name: base + ".jpg", blob, size: blob.size, original_size: f.size });
    }
    return out;
  }

  window.SIGAP_PHOTO = { shrink, shrinkAll, MAX_SIDE, QUALITY };
})();
