/// The browsing page's markup, script and style (served by ``BrowsePage``).
enum BrowsePageContent {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Areo — browse Mars</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/static/leaflet/leaflet.css">
        <link rel="stylesheet" href="/static/areo.css">
        </head>
        <body>
        <div id="map" aria-label="Map of Mars"></div>
        <header id="bar">
          <strong>Areo</strong>
          <label>Layer <select id="layer">
            <option value="NIR,PAN,BLU" selected>Colour NIR·PAN·BLU</option>
            <option value="NIR,RED,BLU">Colour NIR·RED·BLU</option>
            <option value="RED,PAN,BLU">Colour RED·PAN·BLU</option>
            <option value="PAN,BLU">Colour PAN·BLU</option>
            <option value="PAN">PAN</option><option value="RED">RED</option><option value="NIR">NIR</option><option value="BLU">BLU</option>
          </select></label>
          <label>From <input id="from" type="date"></label>
          <label>To <input id="to" type="date"></label>
          <label>Band <select id="band"><option value="">any</option><option>PAN</option><option>RED</option><option>NIR</option><option>BLU</option></select></label>
          <label>Status <select id="status"><option value="">any</option><option>complete</option><option>partial</option><option>corrupt</option><option>unplanned</option></select></label>
          <label>Target <input id="target" type="text" size="10" maxlength="100"></label>
          <span id="count" aria-live="polite"></span>
          <span id="tiles-progress" aria-live="polite"></span>
          <form id="signin"><input id="token" type="password" placeholder="team token" autocomplete="off" size="14"><button type="submit">Sign in</button></form>
          <span id="who" hidden><span id="role"></span> <button id="signout" type="button">Sign out</button></span>
          <span id="message" role="status"></span>
        </header>
        <aside id="panel" hidden>
          <button id="close" type="button" aria-label="Close">×</button>
          <h2 id="panel-title"></h2>
          <div id="job" hidden><progress id="job-progress" max="1" value="0"></progress> <span id="job-text"></span></div>
          <img id="panel-composite" alt="colour composite of the selected observation" hidden>
          <dl id="panel-facts"></dl>
          <h3>Products</h3><ul id="panel-products"></ul>
          <h3>Anomalies</h3><ul id="panel-anomalies"></ul>
        </aside>
        <script src="/static/leaflet/leaflet.js"></script>
        <script src="/static/areo.js"></script>
        </body>
        </html>
        """#

    static let style = #"""
        html, body { margin: 0; height: 100%; font: 13px/1.35 system-ui, sans-serif; }
        #map { position: absolute; inset: 0; background: #1b1b1f; }
        #bar { position: absolute; top: 0; left: 0; right: 0; z-index: 1000; display: flex; flex-wrap: wrap; gap: .6em; align-items: center;
               padding: .35em .6em; background: rgba(255,255,255,.92); box-shadow: 0 1px 4px rgba(0,0,0,.3); }
        #bar form { display: inline; margin: 0; }
        #message { color: #a00; }
        #tiles-progress { color: #555; min-width: 9em; }
        #panel { position: absolute; top: 3.2em; right: .5em; bottom: .5em; width: 340px; z-index: 1000; overflow: auto; background: #fff;
                 padding: .6em .8em; box-shadow: 0 1px 6px rgba(0,0,0,.4); border-radius: 4px; }
        #panel h2 { margin: .2em 0 .4em; font-size: 16px; }
        #panel h3 { margin: .8em 0 .2em; font-size: 13px; }
        #panel dl { display: grid; grid-template-columns: max-content 1fr; gap: .15em .6em; margin: .4em 0; }
        #panel dt { color: #555; }
        #panel dd { margin: 0; word-break: break-word; }
        #panel img { width: 100%; background: #222; margin: .3em 0; }
        #panel ul { margin: 0; padding-left: 1.2em; }
        .leaflet-top { top: 4.2em; }
        #close { position: absolute; top: .3em; right: .4em; border: 0; background: none; font-size: 18px; cursor: pointer; }
        #job progress { width: 70%; }
        """#

    static let script = #"""
        'use strict';
        // Areo's browsing page: tiles rendered from raw packets, the footprints in view (GeoJSON from
        // the search API), a panel for the selected observation, sign-in, and prefetch hints.
        (function () {
          const TMS = 'mars-eqc';
          const MAX_ZOOM = 14;
          const $ = (id) => document.getElementById(id);
          const areo = window.areo = { hints: [], timings: [], tileSession: null, productSession: null, role: 'public', footprints: {} };

          // Mars equirectangular (planetocentric, east longitude): Leaflet's plate carrée CRS has
          // the same 2 × 1 tiles at zoom 0 as Areo's mars-eqc tile matrix set.
          const map = L.map('map', { crs: L.CRS.EPSG4326, minZoom: 0, maxZoom: MAX_ZOOM, zoomControl: true,
                                     maxBounds: [[-90, -180], [90, 180]], maxBoundsViscosity: 0.8 }).setView([0, 0], 1);
          areo.map = map;
          let tiles = null;
          let pending = 0;

          function layerProduct() { return $('layer').value; }

          function tileURL() {
            // The role in the URL keeps the browser's cache of public tiles apart from the team's.
            return `/v1/tiles/${TMS}/{z}/{x}/{y}.png?product=${encodeURIComponent(layerProduct())}&as=${areo.role}`;
          }

          function resetTiles() {
            if (tiles) map.removeLayer(tiles);
            pending = 0;
            tiles = L.tileLayer(tileURL(), { tileSize: 256, minZoom: 0, maxZoom: MAX_ZOOM, maxNativeZoom: MAX_ZOOM, noWrap: true,
                                             bounds: [[-90, -180], [90, 180]], attribution: 'Areo — drawn on demand from raw packets' });
            tiles.on('tileloadstart', () => { pending++; showPending(); });
            tiles.on('tileload tileerror', () => { pending = Math.max(0, pending - 1); showPending(); });
            tiles.on('tileerror', (e) => { $('message').textContent = 'a tile failed: ' + (e.tile && e.tile.src || ''); });
            tiles.addTo(map);
            areo.tiles = tiles;
          }
          function showPending() { $('tiles-progress').textContent = pending > 0 ? `rendering ${pending} tile${pending > 1 ? 's' : ''}…` : ''; }

          // ---- Footprints ------------------------------------------------------------------------
          const footprints = L.geoJSON(null, {
            style: (f) => ({ className: 'areo-footprint', color: f.properties.embargo_until ? '#e0a000' : (f.properties.status === 'complete' ? '#34c3ff' : '#ff5a5a'),
                             weight: 2, fillOpacity: 0.05 }),
            onEachFeature: (f, layer) => {
              layer.on('click', () => select(f.properties.id));
              layer.bindTooltip(`${f.properties.id} · ${f.properties.target || 'no target'} · ${f.properties.status}`);
              layer.on('add', () => { const el = layer.getElement && layer.getElement(); if (el) el.setAttribute('data-observation', f.properties.id); });
            }
          }).addTo(map);
          const markers = L.layerGroup().addTo(map);

          function filters() {
            const p = new URLSearchParams();
            if ($('from').value) p.set('utc_from', $('from').value + 'T00:00:00Z');
            if ($('to').value) p.set('utc_to', $('to').value + 'T23:59:59Z');
            if ($('band').value) p.set('band', $('band').value);
            if ($('status').value) p.set('status', $('status').value);
            if ($('target').value.trim()) p.set('target', $('target').value.trim());
            return p;
          }

          function viewBox() {
            const b = map.getBounds();
            const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
            const w = clamp(b.getWest(), -180, 180), e = clamp(b.getEast(), -180, 180);
            const s = clamp(b.getSouth(), -90, 90), n = clamp(b.getNorth(), -90, 90);
            return (e - w >= 359.9) ? '-180,' + s + ',180,' + n : [w, s, e, n].join(',');
          }

          let footprintRequest = 0;
          async function refreshFootprints(fit) {
            const p = filters();
            p.set('format', 'geojson');
            p.set('limit', '1000');
            if (!fit) p.set('bbox', viewBox());
            const mine = ++footprintRequest;
            const response = await fetch('/v1/observations?' + p.toString(), { credentials: 'same-origin' });
            if (mine !== footprintRequest) return;
            if (!response.ok) { $('message').textContent = 'search failed: ' + response.status; return; }
            const collection = await response.json();
            const drawn = collection.features.filter((f) => f.geometry);
            footprints.clearLayers();
            markers.clearLayers();
            areo.footprints = {};
            footprints.addData(drawn);
            for (const f of drawn) {
              areo.footprints[f.properties.id] = f.properties;
              // A footprint smaller than a few pixels is drawn as a dot as well (its tile would be empty).
              const bb = f.properties.bbox;
              if (bb) {
                const c = L.latLng((bb[1] + bb[3]) / 2, (bb[0] + bb[2]) / 2);
                const size = map.project(L.latLng(bb[3], bb[2])).subtract(map.project(L.latLng(bb[1], bb[0])));
                if (Math.abs(size.x) < 6 && Math.abs(size.y) < 6) {
                  L.circleMarker(c, { radius: 4, color: '#34c3ff', className: 'areo-dot' }).on('click', () => select(f.properties.id)).addTo(markers);
                }
              }
            }
            $('count').textContent = `${drawn.length} of ${collection.total} observations`;
            document.body.setAttribute('data-footprints', drawn.map((f) => f.properties.id).join(','));
            if (fit && drawn.length) map.fitBounds(footprints.getBounds(), { maxZoom: 10 });
          }

          // ---- Hints -------------------------------------------------------------------------------
          function tileRange(zoom, margin) {
            const b = map.getBounds();
            const nw = map.project(b.getNorthWest(), zoom).divideBy(256).floor();
            const se = map.project(b.getSouthEast(), zoom).divideBy(256).floor();
            const columns = 2 << zoom, rows = 1 << zoom;
            const out = [];
            for (let y = Math.max(0, nw.y - margin); y <= Math.min(rows - 1, se.y + margin); y++)
              for (let x = Math.max(0, nw.x - margin); x <= Math.min(columns - 1, se.x + margin); x++) out.push([zoom, x, y]);
            return out;
          }

          async function hint() {
            const zoom = map.getZoom();
            let wanted = tileRange(zoom, 1);
            if (zoom < MAX_ZOOM) wanted = wanted.concat(tileRange(zoom + 1, 0));
            wanted = wanted.slice(0, 300);
            const body = { tiles: { tms: TMS, product: layerProduct(), tiles: wanted } };
            if (areo.tileSession) body.session = areo.tileSession;
            try {
              const response = await fetch('/v1/prefetch', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
              if (response.status === 202) {
                const accepted = await response.json();
                areo.tileSession = accepted.session;
                areo.hints.push({ at: Date.now(), zoom, tiles: wanted.length, queued: accepted.queued.length, cancelled: accepted.cancelled.length });
              }
            } catch (e) { /* a hint is advice; losing one is harmless */ }
          }

          let moveTimer = null;
          map.on('moveend', () => {
            clearTimeout(moveTimer);
            moveTimer = setTimeout(() => { refreshFootprints(false); hint(); }, 150);
          });

          // ---- The selected observation ----------------------------------------------------------------
          function fact(list, name, value) {
            if (value === undefined || value === null || value === '') return;
            const dt = document.createElement('dt'); dt.textContent = name;
            const dd = document.createElement('dd'); dd.textContent = typeof value === 'string' ? value : JSON.stringify(value);
            list.append(dt, dd);
          }

          async function select(id) {
            const response = await fetch(`/v1/observations/${id}`, { credentials: 'same-origin' });
            if (!response.ok) { $('message').textContent = `observation ${id}: ${response.status}`; return; }
            const o = await response.json();
            const panel = $('panel');
            panel.hidden = false;
            panel.setAttribute('data-observation', id);
            $('panel-title').textContent = `Observation ${o.id}` + (o.target ? ` · ${o.target}` : '');
            const facts = $('panel-facts'); facts.replaceChildren();
            fact(facts, 'Status', o.status);
            fact(facts, 'Bands', o.bands.join(' '));
            fact(facts, 'Start (UTC)', o.start_utc); fact(facts, 'End (UTC)', o.end_utc);
            fact(facts, 'Embargo until', o.embargo_until);
            fact(facts, 'Rationale', o.plan && o.plan.rationale);
            fact(facts, 'Requested by', o.plan && o.plan.requested_by);
            fact(facts, 'Geometry kernel', o.applicable.geometry_kernel || 'none yet');
            fact(facts, 'Calibration set', o.applicable.calibration_set || 'none yet');
            if (o.completeness) fact(facts, 'Completeness', `${o.completeness.complete_fragments} of ${o.completeness.expected_fragments} fragments complete` +
                                                    (o.completeness.missing_fragments ? `, ${o.completeness.missing_fragments} missing` : '') +
                                                    (o.completeness.corrupt_fragments ? `, ${o.completeness.corrupt_fragments} corrupt` : ''));
            for (const [file, q] of Object.entries(o.quality || {})) fact(facts, 'Quality ' + file, q);
            const products = $('panel-products'); products.replaceChildren();
            const links = [];
            for (const band of o.bands) {
              for (const [kind, formats] of [['raw', ['png', 'dat', 'xml']], ['calibrated', ['png', 'dat', 'xml']], ['projected', ['png', 'jpg', 'dat', 'xml']]]) {
                for (const format of formats) links.push([`${band} ${kind} ${format}`, `/v1/observations/${id}/products/${kind}?band=${band}&format=${format}`]);
              }
            }
            const composite = o.products && o.products.composite;
            if (composite) for (const format of ['png', 'jpg']) links.push([`composite ${format}`, composite.replace(/format=\w+/, 'format=' + format)]);
            for (const [name, href] of links) {
              const li = document.createElement('li'); const a = document.createElement('a');
              a.href = href; a.textContent = name; a.target = '_blank'; li.append(a); products.append(li);
            }
            const anomalies = $('panel-anomalies'); anomalies.replaceChildren();
            for (const a of (o.anomalies || [])) {
              const li = document.createElement('li'); li.textContent = `${a.severity} · ${a.kind}`; anomalies.append(li);
            }
            if (!(o.anomalies || []).length) { const li = document.createElement('li'); li.textContent = 'none'; anomalies.append(li); }
            hintProducts(id, o);
            if (composite) showComposite(composite.replace(/format=\w+/, 'format=jpg') + '&scale=8');
          }
          areo.select = select;

          function hintProducts(id, o) {
            const bands = o.products && o.products.composite ? new URL(o.products.composite, location.href).searchParams.get('bands') : null;
            if (!bands) return;
            const body = { observations: [id], product: { kind: 'composite', bands, format: 'png' } };
            if (areo.productSession) body.session = areo.productSession;
            fetch('/v1/prefetch', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
              .then((r) => r.status === 202 ? r.json() : null).then((a) => { if (a) areo.productSession = a.session; }).catch(() => {});
          }

          // The composite: asked for asynchronously, its job followed until done, then shown.
          async function showComposite(url) {
            const img = $('panel-composite');
            img.hidden = true;
            $('job').hidden = false;
            $('job-progress').value = 0;
            $('job-text').textContent = 'rendering…';
            const response = await fetch(url, { credentials: 'same-origin', headers: { Prefer: 'respond-async' } });
            if (response.status === 202) {
              const job = await response.json();
              for (;;) {
                const poll = await fetch(`/v1/jobs/${job.id}`, { credentials: 'same-origin' });
                if (!poll.ok) break;
                const status = await poll.json();
                $('job-progress').value = status.progress;
                $('job-text').textContent = `${status.state} · ${status.framelets_done || status.frameletsDone || 0}/${status.framelets_total || status.frameletsTotal || 0} framelets`;
                if (status.state === 'done') break;
                if (status.state === 'failed' || status.state === 'cancelled') { $('job-text').textContent = status.state + ': ' + (status.error || ''); return; }
                await new Promise((r) => setTimeout(r, 250));
              }
            } else if (!response.ok) {
              $('job-text').textContent = `composite: ${response.status}`; return;
            }
            img.onload = () => { $('job').hidden = true; img.hidden = false; img.setAttribute('data-loaded', 'true'); };
            img.src = url;
          }

          $('close').addEventListener('click', () => { $('panel').hidden = true; });

          // ---- Sign-in ---------------------------------------------------------------------------------
          async function who() {
            const r = await fetch('/v1/session', { credentials: 'same-origin' });
            const w = r.ok ? await r.json() : { role: 'public', signed_in: false };
            areo.role = w.role;
            $('signin').hidden = w.signed_in;
            $('who').hidden = !w.signed_in;
            $('role').textContent = 'signed in: ' + w.role;
            document.body.setAttribute('data-role', w.role);
          }
          $('signin').addEventListener('submit', async (e) => {
            e.preventDefault();
            const r = await fetch('/v1/session', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
                                                  body: JSON.stringify({ token: $('token').value }) });
            $('token').value = '';
            $('message').textContent = r.ok ? '' : 'sign-in refused';
            await who(); resetTiles(); refreshFootprints(false);
          });
          $('signout').addEventListener('click', async () => {
            await fetch('/v1/session', { method: 'DELETE', credentials: 'same-origin' });
            await who(); resetTiles(); refreshFootprints(false);
          });

          for (const id of ['from', 'to', 'band', 'status', 'target']) $(id).addEventListener('change', () => refreshFootprints(false));
          $('layer').addEventListener('change', () => { resetTiles(); hint(); });

          // ---- Measuring a viewport (used by the browser tests; harmless otherwise) ---------------------
          // Places tile (x, y) of `zoom` at the map's top-left corner and resolves with the
          // milliseconds until every tile in view has loaded, and how many there were.
          areo.measureViewport = (zoom, x, y) => new Promise((resolve) => {
            const size = map.getSize();
            const centre = map.unproject(L.point(x * 256 + size.x / 2, y * 256 + size.y / 2), zoom);
            const started = performance.now();
            let count = 0;
            const counting = () => { count++; };
            tiles.on('tileloadstart', counting);
            tiles.once('load', () => {
              tiles.off('tileloadstart', counting);
              const result = { ms: Math.round(performance.now() - started), tiles: count, width: size.x, height: size.y };
              areo.timings.push(result);
              resolve(result);
            });
            map.setView(centre, zoom, { animate: false });
          });

          who().then(() => { resetTiles(); return refreshFootprints(true); });
        })();
        """#
}
