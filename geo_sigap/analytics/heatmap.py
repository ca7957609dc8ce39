"""Kernel-density heatmaps of incidents on a grid: binning + FFT convolution.

Points are projected to a local equirectangular frame (metres east/north of the data's
centre; over a city the distortion is far below one cell), counted into square cells
with ``np.bincount`` and convolved with a discretised kernel (``scipy.signal.
fftconvolve``'s steps on ``scipy.fft``). The cost is O(points + cells log cells):
1,000,000 incidents take a fraction of a second where ``scipy.stats.gaussian_kde``
(O(points × cells)) would take about an hour. Because the frame is linear in lon and
lat, the grid is an axis-aligned lon/lat rectangle too, which Leaflet shows as an image
overlay.

Kernels (``h`` = bandwidth, metres):

- ``quartic`` (biweight, the usual crime-mapping kernel):
  ``K(d) = 3 / (π h²) · (1 − d²/h²)²`` for ``d < h``, else 0 — ``h`` is the radius;
- ``gaussian``: ``K(d) = 1 / (2π h²) · exp(−d² / 2h²)``, truncated at 4h — ``h`` is σ.

Default bandwidth (:func:`default_bandwidth`): Scott's rule on the metric
coordinates, ``σ̂ · n^(−1/6)`` with ``σ̂`` the mean over x and y of
``min(sd, IQR/1.349)``; for the quartic kernel multiplied by 2.5 (a quartic of
radius 2.5σ is about as smooth as a Gaussian of sd σ); clamped to 100–1,000 m so that
tiny or huge samples still give a map a planner can read. It is the one knob: pass
``bandwidth_m`` to override.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from geo_sigap.errors import InvalidInput

M_PER_DEG_LAT = 111_320.0
MIN_BANDWIDTH_M = 100.0
MAX_BANDWIDTH_M = 1_000.0
MAX_CELLS_SIDE = 1024


@dataclass(frozen=True)
class HeatGrid:
    """Density surface, incidents per km², on a lon/lat-aligned grid.

    ``density[row, col]``: row 0 is the southern edge. ``bounds`` = (west, south,
    east, north) in EPSG:4326 of the whole grid (cell edges).
    """

    density: np.ndarray
    bounds: tuple[float, float, float, float]
    cell_m: float
    bandwidth_m: float
    kernel: str
    n_points: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.density.shape

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) of cell centres, 1-D arrays for columns and rows."""
        w, s, e, n = self.bounds
        ny, nx = self.density.shape
        lon = w + (np.arange(nx) + 0.5) * (e - w) / nx
        lat = s + (np.arange(ny) + 0.5) * (n - s) / ny
        return lon, lat

    def value_at(self, lon: float, lat: float) -> float:
        w, s, e, n = self.bounds
        ny, nx = self.density.shape
        c = int((lon - w) / (e - w) * nx)
        r = int((lat - s) / (n - s) * ny)
        if 0 <= r < ny and 0 <= c < nx:
            return float(self.density[r, c])
        return 0.0

    def to_rgba(self, cmap: str = "inferno_r", vmax: float | None = None,
                min_alpha_share: float = 0.02) -> np.ndarray:
        """RGBA uint8 image, north up; transparent where density < 2 % of ``vmax``.
        The default ramp is drawn without matplotlib (:mod:`._colormap`: the live map's
        overlay does not load it into the worker); other names are matplotlib's."""
        d = self.density[::-1]
        vmax = vmax or float(np.quantile(d[d > 0], 0.995)) if (d > 0).any() else 1.0
        norm = np.clip(d / vmax, 0, 1)
        alpha = (np.where(norm < min_alpha_share, 0.0, 0.35 + 0.5 * norm) * 255).astype(np.uint8)
        if cmap == "inferno_r":
            from geo_sigap.analytics._colormap import lookup

            return np.concatenate([lookup(norm), alpha[..., None]], axis=-1)
        import matplotlib

        rgba = (matplotlib.colormaps[cmap](norm) * 255).astype(np.uint8)
        rgba[..., 3] = alpha
        return rgba

    def to_png(self, **kw) -> bytes:
        """PNG overlay (north up) for ``L.imageOverlay(url, [[south, west], [north, east]])``."""
        from geo_sigap.analytics._colormap import png_rgba

        return png_rgba(self.to_rgba(**kw))

    def to_data_url(self, **kw) -> str:
        return "data:image/png;base64," + base64.b64encode(self.to_png(**kw)).decode()

    def to_json(self, *, decimals: int = 2) -> dict:
        """A compact JSON layer for the web map: bounds, shape and row-major values."""
        w, s, e, n = self.bounds
        return {
            "bounds": [w, s, e, n],
            "shape": list(self.density.shape),
            "cell_m": self.cell_m,
            "bandwidth_m": self.bandwidth_m,
            "kernel": self.kernel,
            "n_points": self.n_points,
            "unit": "kejadian/km²",
            "max": float(self.density.max()) if self.density.size else 0.0,
            "values": np.round(self.density, decimals).ravel().tolist(),
        }

    def to_folium(self, m=None, *, name: str = "Peta panas kejadian"):
        """Add the surface to a folium map (when ``m`` is None, a new offline map: no web
        tiles, Leaflet served locally — see :mod:`geo_sigap.maps`)."""
        import folium

        from geo_sigap.maps.folium_maps import OfflineMap

        w, s, e, n = self.bounds
        if m is None:
            m = OfflineMap(location=[(s + n) / 2, (w + e) / 2], zoom_start=14, tiles=None)
        folium.raster_layers.ImageOverlay(
            image=self.to_data_url(), bounds=[[s, w], [n, e]], name=name, opacity=1.0,
        ).add_to(m)
        return m


# above this many points the frame's origin is the median of an evenly strided sample
# of them (the origin only anchors the local projection; two full medians were a third
# of a million-point heatmap)
_CENTRE_SAMPLE = 1 << 16


def _centre(v: np.ndarray) -> float:
    """The median of ``v`` (of every ``len(v) // 65,536``-th value for big inputs)."""
    step = len(v) // _CENTRE_SAMPLE
    return float(np.median(v[::step] if step > 1 else v))


def _frame(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float):
    kx = M_PER_DEG_LAT * np.cos(np.deg2rad(lat0))
    return (lon - lon0) * kx, (lat - lat0) * M_PER_DEG_LAT, kx


def default_bandwidth(x: np.ndarray, y: np.ndarray, kernel: str = "quartic") -> float:
    """Scott's rule on metric coordinates (see the module docstring), metres."""
    n = len(x)
    if n < 2:
        return MAX_BANDWIDTH_M / 2

    def spread(v: np.ndarray) -> float:
        sd = float(np.std(v))
        q75, q25 = np.percentile(v, [75, 25])
        iqr = float(q75 - q25) / 1.349
        return min(sd, iqr) if iqr > 0 else sd

    sigma = 0.5 * (spread(x) + spread(y)) * n ** (-1 / 6)
    if kernel == "quartic":
        sigma *= 2.5
    return float(np.clip(sigma, MIN_BANDWIDTH_M, MAX_BANDWIDTH_M))


def _kernel(kernel: str, h: float, cell: float) -> np.ndarray:
    reach = h if kernel == "quartic" else 4 * h
    r = int(np.ceil(reach / cell))
    off = np.arange(-r, r + 1) * cell
    d2 = off[None, :] ** 2 + off[:, None] ** 2
    if kernel == "quartic":
        k = np.where(d2 < h * h, (1 - d2 / (h * h)) ** 2, 0.0) * 3 / (np.pi * h * h)
    else:
        k = np.where(d2 <= reach * reach, np.exp(-d2 / (2 * h * h)), 0.0) / (2 * np.pi * h * h)
    # renormalise the discrete kernel so each point contributes exactly one incident
    return k / (k.sum() * cell * cell)


def kde_grid(lon, lat, *, bandwidth_m: float | None = None, kernel: str = "quartic",
             cell_m: float | None = None, bounds: tuple[float, float, float, float] | None = None,
             weights=None) -> HeatGrid:
    """Kernel density of points (EPSG:4326 lon/lat) in incidents per km².

    Parameters
    ----------
    lon, lat : array-like
        Incident positions, degrees (EPSG:4326). NaN positions are ignored.
    bandwidth_m : float, optional
        Kernel bandwidth in metres (quartic: radius; Gaussian: σ). Default:
        :func:`default_bandwidth`.
    kernel : {"quartic", "gaussian"}
    cell_m : float, optional
        Cell size in metres; default ``bandwidth / 5`` (at least 10 m), enlarged if the
        grid would exceed 1024 cells a side.
    bounds : (west, south, east, north), optional
        Extent to cover (e.g. the kecamatan); default: the points plus one kernel reach.
    weights : array-like, optional
        Weight per point (default 1).
    """
    if kernel not in ("quartic", "gaussian"):
        raise InvalidInput(f"Kernel tidak dikenal: {kernel!r} (quartic/gaussian)",
                           f"Unknown kernel: {kernel!r} (quartic/gaussian)")
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wts = None if weights is None else np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(lon)
    ok &= np.isfinite(lat)
    if not ok.all():  # copies only when some positions are missing
        lon, lat = lon[ok], lat[ok]
        wts = None if wts is None else wts[ok]
    if bounds is None and len(lon) == 0:
        raise InvalidInput("Tidak ada kejadian untuk peta panas", "No incidents for the heatmap")
    if bounds is None:
        lon0, lat0 = _centre(lon), _centre(lat)
    else:
        lon0, lat0 = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    x, y, kx = _frame(lon, lat, lon0, lat0)
    h = float(bandwidth_m) if bandwidth_m else default_bandwidth(x, y, kernel)
    if bandwidth_m is not None and bandwidth_m <= 0:
        raise InvalidInput("Bandwidth harus > 0 m", "Bandwidth must be > 0 m")
    reach = h if kernel == "quartic" else 4 * h
    if bounds is None:
        x0, x1 = float(x.min()) - reach, float(x.max()) + reach
        y0, y1 = float(y.min()) - reach, float(y.max()) + reach
    else:
        (x0, x1), (y0, y1) = (((bounds[0] - lon0) * kx, (bounds[2] - lon0) * kx),
                              ((bounds[1] - lat0) * M_PER_DEG_LAT,
                               (bounds[3] - lat0) * M_PER_DEG_LAT))
    cell = float(cell_m) if cell_m else max(10.0, h / 5)
    cell = max(cell, max(x1 - x0, y1 - y0) / MAX_CELLS_SIDE)
    nx = max(1, int(np.ceil((x1 - x0) / cell)))
    ny = max(1, int(np.ceil((y1 - y0) / cell)))
    # cell of each point: floor((x - x0) / cell), the same arithmetic done in place
    # (a million points: no temporaries beside the two index arrays)
    x -= x0
    x /= cell
    col = np.floor(x, out=x).astype(np.int64)
    y -= y0
    y /= cell
    row = np.floor(y, out=y).astype(np.int64)
    del x, y
    if len(col) and (bounds is not None or col.min() < 0 or col.max() >= nx
                     or row.min() < 0 or row.max() >= ny):
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        if not inside.all():
            col, row = col[inside], row[inside]
            wts = None if wts is None else wts[inside]
    row *= nx
    row += col  # the cell's flat index
    counts = np.bincount(row, weights=wts, minlength=nx * ny).reshape(ny, nx).astype(np.float64)
    k = _kernel(kernel, h, cell)
    dens = _convolve_same(counts, k) if counts.any() else counts
    dens = np.clip(dens, 0, None) * 1e6  # per m² → per km²
    west = lon0 + x0 / kx
    east = lon0 + (x0 + nx * cell) / kx
    south = lat0 + y0 / M_PER_DEG_LAT
    north = lat0 + (y0 + ny * cell) / M_PER_DEG_LAT
    return HeatGrid(density=dens, bounds=(west, south, east, north), cell_m=cell,
                    bandwidth_m=h, kernel=kernel, n_points=len(row))


def _convolve_same(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``scipy.signal.fftconvolve(a, k, mode="same")`` of two real 2-D arrays, the same
    steps (axes of length 1 broadcast, FFT lengths, slicing) on :mod:`scipy.fft` alone:
    importing scipy.signal brings scipy.stats, optimize, interpolate … (about 48 MB)
    into every worker that draws a heat layer."""
    from scipy import fft

    axes = [i for i in range(2) if a.shape[i] != 1 and k.shape[i] != 1]
    full = [a.shape[i] + k.shape[i] - 1 if i in axes else max(a.shape[i], k.shape[i])
            for i in range(2)]
    if axes:
        fshape = [fft.next_fast_len(full[i], True) for i in axes]
        ret = fft.irfftn(fft.rfftn(a, fshape, axes=axes) * fft.rfftn(k, fshape, axes=axes),
                         fshape, axes=axes)[:full[0], :full[1]]
    else:
        ret = a * k
    r0, c0 = ((full[i] - a.shape[i]) // 2 for i in range(2))
    return ret[r0:r0 + a.shape[0], c0:c0 + a.shape[1]].copy()
