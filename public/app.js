/*
 * trade-tracker dashboard — plain JavaScript, no build step, no dependencies.
 * Runs under `Content-Security-Policy: default-src 'self'`: no inline script or
 * style, no eval; everything is built with DOM/SVG APIs and classes.
 *
 * Stable test hooks (Tests/browser/test_dashboard.py relies on them):
 *   #status-indicator               live-stream state; text "Connecting…", "Live",
 *                                   "Reconnecting…" or "Stream down — retrying";
 *                                   data-state = connecting | live | reconnecting | down
 *   section.negotiation[data-negotiation-id]   one per negotiation of GET /v1/status
 *   svg#rate-chart                  the tariff-rate step chart
 *   .rate-line[data-direction]      one path per direction: "USA-CHN", "CHN-USA"
 *   .step-label                     a visible step label, text "YYYY-MM-DD · N %"
 *   .step[data-direction][data-from]  focusable step (tabindex=0, role=button)
 *   #step-details                   measures behind the hovered/focused step
 *   #timeline > li[data-kind]       timeline items, newest first
 *   #timeline-more                  "Load earlier events"
 *   #export-controls                export controls in force (section)
 *
 * Data flow: every document is fetched with a conditional request (its ETag sent
 * back as If-None-Match, `cache: 'no-store'` so the browser cache cannot turn a
 * 304 into a 200); a 304 means nothing to redraw. /v1/changes as Server-Sent Events
 * tells which resources changed; each event marks the parts of the page it touches
 * and a short debounce coalesces bursts into one refresh of only those parts.
 */
'use strict';

(function () {
  // ---------------------------------------------------------------- constants
  const DIRECTIONS = [
    { key: 'USA-CHN', by: 'USA', on: 'CHN', cls: 'dir-usa-chn', marker: 'circle',
      name: 'USA on CHN', long: 'US tariff on goods from China' },
    { key: 'CHN-USA', by: 'CHN', on: 'USA', cls: 'dir-chn-usa', marker: 'square',
      name: 'CHN on USA', long: 'Chinese tariff on goods from the US' },
  ];
  const HISTORY_FROM = '2025-01-01';
  const ISSUE_STATUSES = [
    ['open', 'Open'], ['in_discussion', 'In discussion'], ['tentative_agreement', 'Tentative agreement'],
    ['agreed', 'Agreed'], ['stalled', 'Stalled'], ['dropped', 'Dropped'],
  ];
  const NEGOTIATION_STATUS = { active: 'Active', paused: 'Paused', concluded: 'Concluded', collapsed: 'Collapsed' };
  const ROUND_STATUS = {
    scheduled: 'Scheduled', in_progress: 'In progress', postponed: 'Postponed', cancelled: 'Cancelled',
    concluded: 'Concluded', suspended: 'Suspended',
  };
  const KIND_LABELS = {
    round_started: 'Round starts',
    round_ended: 'Round ends',
    issue_update: 'Issue update',
    tariff_effective: 'Tariff takes effect',
    tariff_ended: 'Tariff ends',
    tariff_suspended: 'Tariff suspended',
    tariff_resumed: 'Tariff resumed',
    export_control_effective: 'Export control takes effect',
    export_control_ended: 'Export control ends',
    export_control_suspended: 'Export control suspended',
    export_control_resumed: 'Export control resumed',
    statement: 'Statement',
  };
  const CONTROL_LABELS = {
    licence_required: 'Licence required', ban: 'Ban', quota: 'Quota', end_use_restriction: 'End-use restriction',
  };
  // Which parts of the page a change to a resource touches (API.md §4).
  const TOUCHES = {
    negotiations: ['status', 'timeline'],
    rounds: ['status', 'timeline'],
    issues: ['status', 'timeline'],
    'issue-updates': ['status', 'timeline'],
    'tariff-measures': ['status', 'chart', 'timeline'],
    'export-controls': ['exports', 'timeline'],
    statements: ['timeline'],
    participants: [],
    'round-participants': [],
    sources: [],
  };
  const ALL_PARTS = ['status', 'chart', 'timeline', 'exports'];
  const DEBOUNCE_MS = 250;
  const RETRY_MS = 10000;         // a failed refresh is tried again after this long
  const TIMELINE_PAGE = 200;        // items per request
  const TIMELINE_WINDOW_DAYS = 120; // the timeline is read backwards in windows of this many days
  const TIMELINE_MIN_ITEMS = 12;    // load windows until at least this many are shown
  const SVGNS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------- helpers
  const $ = (sel) => document.querySelector(sel);

  /** Create an element: el('p', {class: 'x', text: 'hi'}, child, ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    applyAttrs(node, attrs);
    for (const c of children) appendChild(node, c);
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVGNS, tag);
    applyAttrs(node, attrs);
    for (const c of children) appendChild(node, c);
    return node;
  }
  function applyAttrs(node, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.setAttribute('class', v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  /** Replace a node's children, skipping null/false (replaceChildren would print "null"). */
  function fill(node, ...children) {
    node.replaceChildren();
    for (const c of children) appendChild(node, c);
    return node;
  }
  function appendChild(node, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { for (const x of c) appendChild(node, x); return; }
    node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }

  /** "145 %", "7.5 %" — plain space, as the API's own titles write it. */
  function pct(n) {
    if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
    const r = Math.round(Number(n) * 100) / 100;
    return `${r} %`;
  }
  const DAY = 86400000;
  function dayNumber(iso) { // 'YYYY-MM-DD' -> days since epoch (UTC)
    const [y, m, d] = iso.split('-').map(Number);
    return Date.UTC(y, m - 1, d) / DAY;
  }
  function isoOfDay(n) { return new Date(n * DAY).toISOString().slice(0, 10); }
  function addDays(iso, k) { return isoOfDay(dayNumber(iso) + k); }
  function utcToday() { return new Date().toISOString().slice(0, 10); }
  /** Keep "10 %" together when text wraps (the API writes a plain space). */
  function nbspPct(t) { return String(t).replace(/(\d) %/g, '$1\u00a0%'); }
  function humanize(s) { return String(s || '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()); }
  function dateRange(from, until) { // until is exclusive in the API
    if (!from) return '';
    return until ? `${from} – ${until}` : `from ${from}`;
  }
  /** The same as nodes: dates as <time>, kept on one line. */
  function dateRangeEl(from, until) {
    if (!from) return [];
    return until ? [timeEl(from), ' – ', timeEl(until)] : ['from ', timeEl(from)];
  }
  function timeEl(iso, cls) { return el('time', { datetime: iso, class: cls, text: iso }); }
  function badge(text, cls) { return el('span', { class: `badge ${cls || ''}`.trim(), text }); }

  // ---------------------------------------------------------------- conditional fetch
  class HttpError extends Error {
    constructor(status, url) { super(`HTTP ${status}`); this.status = status; this.url = url; }
  }
  const documents = new Map(); // url -> { etag, data }

  /**
   * GET a JSON document, revalidating what we already hold: sends If-None-Match
   * with the stored ETag. Resolves to { changed, data }; changed=false on a 304.
   */
  async function getDoc(url) {
    const held = documents.get(url);
    const headers = { Accept: 'application/json' };
    if (held && held.etag) headers['If-None-Match'] = held.etag;
    const res = await fetch(url, { headers, cache: 'no-store' });
    if (res.status === 304 && held) return { changed: false, data: held.data };
    if (!res.ok) throw new HttpError(res.status, url);
    const data = await res.json();
    documents.set(url, { etag: res.headers.get('ETag'), data });
    return { changed: true, data };
  }
  function describeError(err) {
    if (err instanceof HttpError) return `the server answered ${err.status}`;
    return 'the server could not be reached';
  }

  // ---------------------------------------------------------------- state
  const state = {
    status: null,            // GET /v1/status document
    today: utcToday(),       // the server's "today" once /v1/status is read
    history: {},             // direction key -> history document
    lastSeq: null,           // last change seq seen (status or stream)
    recordThrough: null,     // record_complete_through of the charted negotiation
  };

  // ================================================================ status / negotiations
  async function refreshStatus() {
    const box = $('#negotiation-list');
    let res;
    try {
      res = await getDoc('/v1/status');
    } catch (err) {
      if (!state.status) {
        fill(box, el('p', { class: 'error', text: `Could not load the status: ${describeError(err)}. Retrying…` }));
      }
      throw err;
    }
    const st = res.data;
    if (st.generated_at) state.today = String(st.generated_at).slice(0, 10);
    if (state.lastSeq === null && typeof st.last_change_seq === 'number') state.lastSeq = st.last_change_seq;
    if (!res.changed && state.status) return false;
    state.status = st;
    const negs = Array.isArray(st.negotiations) ? st.negotiations : [];
    const charted = negs.find((n) => (n.parties || []).includes('USA') && (n.parties || []).includes('CHN')) || negs[0];
    const rec = charted ? charted.record_complete_through || null : null;
    const recChanged = rec !== state.recordThrough;
    state.recordThrough = rec;
    fill(box, ...(negs.length ? negs.map(renderNegotiation)
      : [el('p', { class: 'placeholder', text: 'No negotiations are tracked yet.' })]));
    renderFooter();
    updateTimelineSelect(negs);
    if (recChanged) renderChart();
    return true;
  }

  function beyondBadge(n) {
    const through = n.record_complete_through;
    return badge(through ? `as scheduled — record checked through ${through}` : 'as scheduled — past the checked record',
      'badge-beyond');
  }

  function renderRound(label, round, n, emptyText) {
    const body = round
      ? [
        el('p', { class: 'round-title', text: round.title }),
        el('p', { class: 'round-dates' }, timeEl(round.starts_on),
          round.ends_on && round.ends_on !== round.starts_on ? [' – ', timeEl(round.ends_on)] : null),
        el('p', { class: 'round-status' }, badge(ROUND_STATUS[round.status] || humanize(round.status), `round-${round.status}`),
          round.beyond_record ? [' ', beyondBadge(n)] : null),
      ]
      : [el('p', { class: 'muted', text: emptyText })];
    return el('div', { class: 'fact' }, el('h4', { text: label }), body);
  }

  function renderNegotiation(n) {
    const parties = (n.parties || []).join(' · ');
    const rates = (n.tariff_rates || []).map((r) => el('li', { class: 'rate-now' },
      el('span', { class: 'rate-dir', text: `${r.imposed_by} on ${r.imposed_on}` }),
      el('span', { class: 'rate-value', text: pct(r.total_rate_percent) }),
      r.beyond_record ? beyondBadge(n) : null));
    const counts = n.issue_counts || {};
    const known = new Set(ISSUE_STATUSES.map(([k]) => k));
    const statuses = ISSUE_STATUSES.concat(Object.keys(counts).filter((k) => !known.has(k)).map((k) => [k, humanize(k)]));
    const total = statuses.reduce((s, [k]) => s + (Number(counts[k]) || 0), 0);
    const issues = el('ul', { class: 'issue-counts' }, statuses.map(([k, label]) => {
      const c = Number(counts[k]) || 0;
      return el('li', { class: `issue-count issue-${k}${c ? '' : ' is-zero'}`, dataset: { status: k } },
        el('span', { class: 'count', text: String(c) }), el('span', { class: 'label', text: label }));
    }));
    const headingId = `negotiation-${n.id}-title`;
    return el('section', { class: 'negotiation panel', 'aria-labelledby': headingId, dataset: { negotiationId: n.id } },
      el('div', { class: 'negotiation-head' },
        el('h2', { id: headingId, text: n.title || n.slug || `Negotiation ${n.id}` }),
        el('p', { class: 'negotiation-meta' },
          badge(NEGOTIATION_STATUS[n.status] || humanize(n.status), `neg-${n.status}`),
          el('span', { class: 'parties' }, el('span', { class: 'visually-hidden', text: 'Parties: ' }), parties),
          n.record_complete_through
            ? el('span', { class: 'record-through' }, 'Record checked through ', timeEl(n.record_complete_through))
            : null)),
      el('div', { class: 'facts' },
        renderRound('Last round', n.last_round, n, 'No round has started yet.'),
        renderRound('Next round', n.next_round, n, 'None scheduled.'),
        el('div', { class: 'fact' }, el('h4', { text: 'Tariff on all goods today' }),
          rates.length ? el('ul', { class: 'rates-now' }, rates) : el('p', { class: 'muted', text: 'No rates.' })),
        el('div', { class: 'fact fact-issues' }, el('h4', { text: `Issues (${total})` }), issues)));
  }

  function renderFooter() {
    const st = state.status;
    const meta = $('#footer-meta');
    const parts = ['Data from this server’s ', el('a', { href: '/openapi.yaml', text: 'trade-tracker API' }), '.'];
    if (st && st.generated_at) parts.push(` Status generated ${String(st.generated_at).replace('T', ' ').slice(0, 16)} UTC`);
    if (st && typeof st.last_change_seq === 'number') parts.push(`, change #${st.last_change_seq}.`);
    fill(meta, ...parts);
  }

  // ================================================================ chart
  const chart = { width: 0, focusKey: null, detailsToken: 0, pinned: null };

  async function refreshChart() {
    const results = await Promise.allSettled(DIRECTIONS.map((d) =>
      getDoc(`/v1/tariff-rates/history?imposed_by=${d.by}&imposed_on=${d.on}&from=${HISTORY_FROM}`)));
    let changed = false;
    let failure = null;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        if (r.value.changed || !state.history[DIRECTIONS[i].key]) changed = true;
        state.history[DIRECTIONS[i].key] = r.value.data;
      } else failure = r.reason;
    });
    if (failure && !Object.keys(state.history).length) {
      $('#chart-message').textContent = `Could not load the rate history: ${describeError(failure)}.`;
      $('#chart-message').hidden = false;
      throw failure;
    }
    if (changed) { renderChart(); renderRateTable(); }
    // A changed measure may change what a step is made of: refresh the open panel.
    if (chart.pinned) {
      const row = steps(chart.pinned.dir.key).find((r) => r.from === chart.pinned.row.from);
      if (row) showStepDetails(chart.pinned.dir, row, false);
      else {
        chart.pinned = null;
        fill($('#step-details-body'), el('p', { class: 'muted', text: 'That step no longer exists. Hover or focus a step on the chart.' }));
      }
    }
    if (failure) throw failure;
    return changed;
  }

  function steps(dirKey) {
    const h = state.history[dirKey];
    return h && Array.isArray(h.data) ? h.data : [];
  }

  function niceStep(maxVal, maxTicks) {
    const candidates = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500];
    for (const c of candidates) if (maxVal / c <= maxTicks) return c;
    return 1000;
  }

  function renderChart() {
    const root = $('#rate-chart');
    const container = $('#chart-container');
    const all = DIRECTIONS.map((d) => steps(d.key));
    if (!all.some((s) => s.length)) return;
    $('#chart-message').hidden = true;

    // Remember the focused step so a redraw does not throw keyboard users out.
    const active = document.activeElement;
    const refocus = active && active.classList && active.classList.contains('step')
      ? `${active.dataset.direction}|${active.dataset.from}` : null;

    const W = Math.max(300, Math.round(container.clientWidth || 800));
    const narrow = W < 560;
    const H = narrow ? 300 : 380;
    const fs = narrow ? 11 : 12; // label font size in px (viewBox = CSS px, so text stays legible)
    const m = { top: 30, right: narrow ? 12 : 20, bottom: 34, left: narrow ? 44 : 52 };
    const pw = W - m.left - m.right;
    const ph = H - m.top - m.bottom;
    chart.width = W;

    // Domains
    let d0 = Infinity; let d1 = -Infinity; let vMax = 0;
    for (const d of DIRECTIONS) {
      const h = state.history[d.key];
      for (const row of steps(d.key)) {
        d0 = Math.min(d0, dayNumber(row.from));
        d1 = Math.max(d1, dayNumber(row.from) + 14, row.until ? dayNumber(row.until) : -Infinity);
        vMax = Math.max(vMax, Number(row.total_rate_percent) || 0);
      }
      if (h && h.from) d0 = Math.min(d0, dayNumber(h.from));
      if (h && h.to) d1 = Math.max(d1, dayNumber(h.to));
    }
    if (state.recordThrough) d1 = Math.max(d1, dayNumber(state.recordThrough) + 7);
    const yStep = niceStep(Math.max(vMax, 1) * 1.1, narrow ? 5 : 7);
    const yMax = Math.max(yStep, Math.ceil((vMax * 1.1) / yStep) * yStep);
    const x = (iso) => m.left + ((dayNumber(iso) - d0) / (d1 - d0)) * pw;
    const xd = (day) => m.left + ((day - d0) / (d1 - d0)) * pw;
    const y = (v) => m.top + ph - (Number(v) / yMax) * ph;

    root.setAttribute('viewBox', `0 0 ${W} ${H}`);
    root.setAttribute('width', String(W));
    root.setAttribute('height', String(H));
    root.replaceChildren();
    root.appendChild(svg('desc', { text: chartDescription() }));

    // Defs: hatch pattern for the part beyond the checked record.
    root.appendChild(svg('defs', null,
      svg('pattern', { id: 'beyond-hatch', width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        svg('rect', { width: 8, height: 8, fill: '#fbf6e9' }),
        svg('line', { x1: 0, y1: 0, x2: 0, y2: 8, stroke: '#e3d3a8', 'stroke-width': 3 }))));

    const gGrid = svg('g', { class: 'grid', 'aria-hidden': 'true' });
    root.appendChild(gGrid);

    // Beyond the checked record: shaded, with a plain-text note.
    if (state.recordThrough && dayNumber(state.recordThrough) + 1 < d1) {
      const xr = Math.max(m.left, xd(dayNumber(state.recordThrough) + 1));
      gGrid.appendChild(svg('rect', { class: 'beyond-area', x: xr, y: m.top, width: m.left + pw - xr, height: ph, fill: 'url(#beyond-hatch)' }));
      gGrid.appendChild(svg('line', { class: 'beyond-edge', x1: xr, x2: xr, y1: m.top - 4, y2: m.top + ph }));
    }

    // Y grid and labels
    for (let v = 0; v <= yMax; v += yStep) {
      const yy = y(v);
      gGrid.appendChild(svg('line', { class: v === 0 ? 'axis-line' : 'grid-line', x1: m.left, x2: m.left + pw, y1: yy, y2: yy }));
      gGrid.appendChild(svg('text', { class: 'tick-label', x: m.left - 6, y: yy + 4, 'text-anchor': 'end', text: pct(v) }));
    }
    // X ticks: first of month, every k months so labels do not touch.
    const months = [1, 2, 3, 4, 6, 12];
    const tickW = fs * 6.2;
    const pxPerMonth = (pw / (d1 - d0)) * 30.4;
    const every = months.find((k) => k * pxPerMonth >= tickW + 8) || 12;
    const start = new Date(d0 * DAY);
    let ty = start.getUTCFullYear(); let tm = start.getUTCMonth();
    if (start.getUTCDate() !== 1) tm += 1;
    for (;;) {
      ty += Math.floor(tm / 12); tm %= 12;
      const day = Date.UTC(ty, tm, 1) / DAY;
      if (day > d1) break;
      if ((ty * 12 + tm) % every === 0) {
        const xx = xd(day);
        gGrid.appendChild(svg('line', { class: 'tick', x1: xx, x2: xx, y1: m.top + ph, y2: m.top + ph + 5 }));
        if (xx - tickW / 2 >= 0 && xx + tickW / 2 <= W) {
          gGrid.appendChild(svg('text', { class: 'tick-label', x: xx, y: m.top + ph + 18, 'text-anchor': 'middle', text: isoOfDay(day) }));
        }
      }
      tm += 1;
    }

    // Lines
    const gLines = svg('g', { class: 'lines' });
    root.appendChild(gLines);
    const runs = []; // horizontal runs of the lines: labels keep off them
    for (const d of DIRECTIONS) {
      const rows = steps(d.key);
      if (!rows.length) continue;
      let p = `M${x(rows[0].from).toFixed(1)},${y(rows[0].total_rate_percent).toFixed(1)}`;
      rows.forEach((row, i) => {
        const endX = row.until ? x(row.until) : xd(d1);
        p += ` H${endX.toFixed(1)}`;
        const ry = y(row.total_rate_percent);
        runs.push({ x0: x(row.from) + 1, y0: ry - 2, x1: endX, y1: ry + 2 });
        const next = rows[i + 1];
        if (next) {
          if (row.until && next.from !== row.until) p += ` M${x(next.from).toFixed(1)},${y(next.total_rate_percent).toFixed(1)}`;
          else p += ` V${y(next.total_rate_percent).toFixed(1)}`;
        }
      });
      gLines.appendChild(svg('path', { class: `rate-line ${d.cls}`, d: p, dataset: { direction: d.key }, 'aria-hidden': 'true' }));
    }

    // Step markers (focusable) and labels, placed so that labels do not collide.
    const gSteps = svg('g', { class: 'steps' });
    const gLabels = svg('g', { class: 'labels', 'aria-hidden': 'true' });
    root.appendChild(gLabels);
    root.appendChild(gSteps);
    const obstacles = runs.slice();
    const candidates = [];
    for (const d of DIRECTIONS) {
      const rows = steps(d.key);
      const h = state.history[d.key] || {};
      const seriesMax = Math.max(...rows.map((r) => Number(r.total_rate_percent) || 0));
      rows.forEach((row, i) => {
        const px = x(row.from); const py = y(row.total_rate_percent);
        const v = Number(row.total_rate_percent) || 0;
        const prev = i > 0 ? Number(rows[i - 1].total_rate_percent) || 0 : null;
        const sched = scheduledStep(row);
        const label = `${row.from} · ${pct(v)}${sched ? ' (as scheduled)' : ''}`;
        const g = svg('g', {
          class: `step ${d.cls}`, tabindex: 0, role: 'button',
          'aria-label': `${d.name}: ${pct(v)} on all goods from ${row.from}${row.until ? ` until ${row.until}` : ', still in force'}${sched ? ', as scheduled, past the checked record' : ''}. Shows the measures.`,
          'aria-controls': 'step-details',
          dataset: { direction: d.key, from: row.from, total: v },
        });
        g.appendChild(svg('circle', { class: 'hit', cx: px, cy: py, r: 11 }));
        g.appendChild(svg('circle', { class: 'focus-ring', cx: px, cy: py, r: 9 }));
        if (d.marker === 'circle') g.appendChild(svg('circle', { class: `marker ${d.cls}`, cx: px, cy: py, r: 4.5 }));
        else g.appendChild(svg('rect', { class: `marker ${d.cls}`, x: px - 4, y: py - 4, width: 8, height: 8 }));
        const open = () => showStepDetails(d, row, true);
        g.addEventListener('mouseenter', open);
        g.addEventListener('focus', open);
        g.addEventListener('click', open);
        g.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); open(); return; }
          const target = stepNeighbour(root, g, ev.key);
          if (target) { ev.preventDefault(); target.focus(); }
        });
        gSteps.appendChild(g);
        obstacles.push({ x0: px - 5, y0: py - 5, x1: px + 5, y1: py + 5 });
        // The first row at the very start of the range is not a change, just the starting level.
        const isRangeStart = i === 0 && h.from && row.from === h.from;
        if (isRangeStart && v === 0) return;
        let score = prev === null ? v : Math.abs(v - prev);
        if (v === seriesMax && v > 0) score += 10000; // the peak always first
        if (i === rows.length - 1) score += 5000;      // then the current level
        candidates.push({ d, px, py, label, score, order: candidates.length });
      });
    }
    candidates.sort((a, b) => b.score - a.score || a.order - b.order);
    const placed = [];
    const bounds = { x0: m.left + 2, y0: 2, x1: W - 2, y1: m.top + ph - 2 };
    const hits = (b) => placed.some((o) => b.x0 < o.x1 && b.x1 > o.x0 && b.y0 < o.y1 && b.y1 > o.y0) ||
      obstacles.some((o) => b.x0 < o.x1 && b.x1 > o.x0 && b.y0 < o.y1 && b.y1 > o.y0);
    const inside = (b) => b.x0 >= bounds.x0 && b.x1 <= bounds.x1 && b.y0 >= bounds.y0 && b.y1 <= bounds.y1;
    // Record note at the top of the shaded part; labels keep clear of it.
    if (state.recordThrough && dayNumber(state.recordThrough) + 1 < d1) {
      const xr = Math.max(m.left, xd(dayNumber(state.recordThrough) + 1));
      const text = narrow ? `as scheduled after ${state.recordThrough}` : `as scheduled — record checked through ${state.recordThrough}`;
      const t = svg('text', { class: 'beyond-note', y: m.top - 10, 'font-size': fs, text });
      root.appendChild(t);
      const w = t.getComputedTextLength ? t.getComputedTextLength() : text.length * fs * 0.6;
      const tx = Math.max(m.left, Math.min(xr + 4, m.left + pw - w));
      t.setAttribute('x', tx.toFixed(1));
      placed.push({ x0: tx - 2, y0: m.top - 10 - fs, x1: tx + w + 2, y1: m.top - 7 });
    }
    for (const c of candidates) {
      const t = svg('text', { class: `step-label ${c.d.cls}`, 'font-size': fs, text: c.label });
      gLabels.appendChild(t);
      const w = t.getComputedTextLength ? t.getComputedTextLength() : c.label.length * fs * 0.6;
      const lh = fs + 3;
      // Candidate spots: right of the step above/below its level, then stacked rows
      // above (with a leader line), then the same to the left (near the right edge).
      const spots = [];
      const right = c.px + 7; const left = c.px - 7 - w;
      for (const ax of [right, left]) {
        spots.push({ ax, by: c.py - 7, lead: false });
        spots.push({ ax, by: c.py + fs + 6, lead: false });
      }
      for (let k = 1; k <= 5; k++) {
        for (const ax of [right, left]) spots.push({ ax, by: c.py - 7 - k * lh, lead: true });
        if (k <= 3) for (const ax of [right, left]) spots.push({ ax, by: c.py + fs + 6 + k * lh, lead: true });
      }
      let chosen = null;
      for (const s of spots) {
        const b = { x0: s.ax - 2, y0: s.by - fs, x1: s.ax + w + 2, y1: s.by + 3 };
        if (inside(b) && !hits(b)) { chosen = { s, b }; break; }
      }
      if (!chosen) { t.remove(); continue; } // still reachable: marker, hover panel and the table
      t.setAttribute('x', chosen.s.ax.toFixed(1));
      t.setAttribute('y', chosen.s.by.toFixed(1));
      placed.push(chosen.b);
      if (chosen.s.lead) {
        const ly = chosen.s.by < c.py ? chosen.s.by + 3 : chosen.s.by - fs;
        const lx = chosen.s.ax > c.px ? chosen.s.ax - 1 : chosen.s.ax + w + 1;
        gLabels.insertBefore(svg('line', { class: `leader ${c.d.cls}`, x1: c.px, y1: c.py, x2: lx, y2: ly }), gLabels.firstChild);
      }
    }

    if (refocus) {
      const [dir, from] = refocus.split('|');
      const again = root.querySelector(`.step[data-direction="${dir}"][data-from="${from}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  /** Arrow keys move along a line (Left/Right, Home/End) or to the other line (Up/Down). */
  function stepNeighbour(root, g, key) {
    const all = [...root.querySelectorAll('.step')];
    const same = all.filter((s) => s.dataset.direction === g.dataset.direction);
    const i = same.indexOf(g);
    if (key === 'ArrowRight') return same[i + 1] || null;
    if (key === 'ArrowLeft') return same[i - 1] || null;
    if (key === 'Home') return same[0] || null;
    if (key === 'End') return same[same.length - 1] || null;
    if (key === 'ArrowUp' || key === 'ArrowDown') {
      const other = all.filter((s) => s.dataset.direction !== g.dataset.direction);
      const day = dayNumber(g.dataset.from);
      let best = null;
      for (const s of other) {
        const dist = Math.abs(dayNumber(s.dataset.from) - day);
        if (!best || dist < best.dist) best = { s, dist };
      }
      return best ? best.s : null;
    }
    return null;
  }

  /**
   * A step is "as scheduled" when the server flags it beyond the checked record
   * and it starts after that date; a step that began within the record and runs on
   * past it is shown as observed (the shaded part of the chart says the rest).
   */
  function scheduledStep(row) {
    if (!row.beyond_record) return false;
    return !state.recordThrough || row.from > state.recordThrough;
  }

  function chartDescription() {
    return DIRECTIONS.map((d) => {
      const rows = steps(d.key);
      if (!rows.length) return `${d.name}: no data.`;
      return `${d.name}: ` + rows.map((r) => `${pct(r.total_rate_percent)} from ${r.from}`).join(', ') + '.';
    }).join(' ');
  }

  function renderRateTable() {
    const box = $('#rate-table');
    const tables = DIRECTIONS.map((d) => {
      const rows = steps(d.key);
      return el('table', { class: 'data-table' },
        el('caption', { text: `${d.name} — ${d.long}` }),
        el('thead', null, el('tr', null, el('th', { scope: 'col', text: 'From' }), el('th', { scope: 'col', text: 'Until (exclusive)' }),
          el('th', { scope: 'col', class: 'num', text: 'Total' }))),
        el('tbody', null, rows.map((r) => el('tr', null,
          el('td', null, timeEl(r.from)),
          el('td', null, r.until ? timeEl(r.until) : 'no end date'),
          el('td', { class: 'num' }, pct(r.total_rate_percent), scheduledStep(r) ? [' ', badge('as scheduled', 'badge-beyond')] : null)))));
    });
    fill(box, ...tables);
  }

  /** Fill the side panel with the measures in force on a step's first day. */
  async function showStepDetails(d, row, fromUser) {
    chart.pinned = { dir: d, row };
    for (const s of document.querySelectorAll('#rate-chart .step.is-active')) s.classList.remove('is-active');
    const node = document.querySelector(`#rate-chart .step[data-direction="${d.key}"][data-from="${row.from}"]`);
    if (node) node.classList.add('is-active');
    const token = ++chart.detailsToken;
    const body = $('#step-details-body');
    const head = el('p', { class: 'step-head' },
      el('span', { class: `step-dir ${d.cls}`, text: d.name }), ' ',
      el('span', { class: 'step-when' }, dateRangeEl(row.from, row.until)));
    const url = `/v1/tariff-rates?imposed_by=${d.by}&imposed_on=${d.on}&as_of=${row.from}`;
    if (fromUser && !documents.has(url)) {
      fill(body, head, el('p', { class: 'step-total', text: pct(row.total_rate_percent) }), el('p', { class: 'muted', text: 'Loading the measures…' }));
    }
    let res;
    try {
      res = await getDoc(url);
    } catch (err) {
      if (token === chart.detailsToken) {
        fill(body, head, el('p', { class: 'error', text: `Could not load the measures: ${describeError(err)}.` }));
      }
      return;
    }
    if (token !== chart.detailsToken) return; // a later hover/focus won
    if (!fromUser && !res.changed && body.dataset.url === url) return;
    body.dataset.url = url;
    const doc = res.data || {};
    const measures = Array.isArray(doc.measures) ? doc.measures : [];
    const items = measures.map((ms) => {
      const susp = (ms.suspensions || []).filter((s) => s.from <= row.from && (!s.until || row.from < s.until));
      return el('li', { class: 'measure' },
        el('p', { class: 'measure-head' }, el('span', { class: 'measure-rate', text: pct(ms.rate_percent) }), ' ',
          el('span', { class: 'measure-basis', text: ms.legal_basis || ms.scope || `Measure ${ms.id}` })),
        el('p', { class: 'measure-dates' }, 'In force ', dateRangeEl(ms.effective_from, ms.effective_until),
          ms.effective_until ? ' (until is exclusive)' : ', no end date'),
        susp.length ? el('p', { class: 'measure-susp' }, badge('suspended that day', 'badge-beyond'), ' ',
          susp.map((s) => `${dateRange(s.from, s.until)}${s.note ? ` — ${s.note}` : ''}`).join('; ')) : null,
        ms.notes ? el('p', { class: 'measure-notes', text: ms.notes }) : null);
    });
    fill(body, head,
      el('p', { class: 'step-total' }, pct(doc.total_rate_percent ?? row.total_rate_percent),
        el('span', { class: 'muted' }, ' on all goods, as of ', timeEl(doc.as_of || row.from))),
      row.beyond_record ? el('p', null, badge(!state.recordThrough ? 'as scheduled — past the checked record'
        : scheduledStep(row) ? `as scheduled — record checked through ${state.recordThrough}`
          : `record checked through ${state.recordThrough}; later days as scheduled`, 'badge-beyond')) : null,
      measures.length ? el('ul', { class: 'measures' }, items)
        : el('p', { class: 'muted', text: 'No all-goods tariff measure in force that day.' }));
  }

  // ================================================================ timeline
  /*
   * The API returns a negotiation's timeline oldest first and cannot be sorted.
   * People open a dashboard to see what happened lately, so the list shows the
   * newest event first. To get there without reading the whole history, the page
   * reads the timeline backwards in date windows (`from`/`to` filters, both
   * inclusive): the first window is the last TIMELINE_WINDOW_DAYS days with no
   * upper bound (so scheduled, future events are included), each following one
   * the window before it; within a window it follows `next_cursor` to its end
   * and shows the items reversed. "Load earlier events" loads the next window(s)
   * back; the oldest event (a `limit=1` request) tells when there is nothing more.
   * On a change every loaded window is revalidated with If-None-Match.
   */
  const tl = { negotiationId: null, windows: [], floor: null, reachedStart: false, seen: null };

  function timelineBase() { return `/v1/negotiations/${tl.negotiationId}/timeline`; }

  function updateTimelineSelect(negs) {
    const sel = $('#timeline-negotiation');
    const wrap = $('#timeline-select-wrap');
    if (!negs.length) return;
    if (tl.negotiationId === null || !negs.some((n) => n.id === tl.negotiationId)) {
      const charted = negs.find((n) => (n.parties || []).includes('USA') && (n.parties || []).includes('CHN')) || negs[0];
      tl.negotiationId = charted.id;
      tl.windows = []; tl.reachedStart = false; tl.floor = null; tl.seen = null;
    }
    wrap.hidden = negs.length < 2;
    if (negs.length >= 2) {
      fill(sel, ...negs.map((n) => el('option', { value: n.id, text: n.title || n.slug, selected: n.id === tl.negotiationId })));
    }
  }

  async function fetchWindow(w) {
    // Every page is revalidated (If-None-Match). The URL of page k+1 comes from the
    // next_cursor page k answers now, so if an insert shifted the page boundaries
    // the following pages are simply read afresh from the new cursor.
    const pages = [];
    let url = w.url;
    let changed = false;
    while (url && pages.length < 50) { // 50 pages of 200: far more than a window holds
      const res = await getDoc(url);
      if (res.changed) changed = true;
      pages.push({ url, items: res.data.data || [] });
      const next = res.data.next_cursor;
      url = next ? `${timelineBase()}?cursor=${encodeURIComponent(next)}&limit=${TIMELINE_PAGE}` : null;
    }
    if (!w.pages || w.pages.length !== pages.length) changed = true;
    w.pages = pages;
    return changed;
  }

  function windowUrl(from, to) {
    const q = [`limit=${TIMELINE_PAGE}`];
    if (from) q.push(`from=${from}`);
    if (to) q.push(`to=${to}`);
    return `${timelineBase()}?${q.join('&')}`;
  }

  function countItems() { return tl.windows.reduce((s, w) => s + w.pages.reduce((t, p) => t + p.items.length, 0), 0); }

  /** Load windows further back until `want` more items are shown or the start is reached. */
  async function loadEarlier(want) {
    const before = countItems();
    if (tl.floor === null) {
      const probe = await getDoc(`${timelineBase()}?limit=1`);
      const first = (probe.data.data || [])[0];
      if (!first) return; // no events at all (yet): probed again on the next change
      tl.floor = first.date;
    }
    while (!tl.reachedStart && countItems() - before < want) {
      const last = tl.windows[tl.windows.length - 1];
      const to = last ? addDays(last.from, -1) : null;
      if (to && to < tl.floor) { tl.reachedStart = true; break; }
      let from = addDays(to || state.today, -(TIMELINE_WINDOW_DAYS - 1));
      if (from <= tl.floor) { from = null; tl.reachedStart = true; } // the last window is open towards the past
      const w = { from, to, url: windowUrl(from, to), pages: null };
      await fetchWindow(w);
      tl.windows.push(w);
    }
  }

  // Timeline refreshes run one after another: the first load, a change and the
  // "Load earlier" button must not extend the window list concurrently.
  let timelineChain = Promise.resolve();
  function refreshTimeline(opts) {
    const run = timelineChain.then(() => refreshTimelineNow(opts));
    timelineChain = run.catch(() => {});
    return run;
  }

  async function refreshTimelineNow(opts) {
    if (opts && opts.switchTo !== undefined && opts.switchTo !== tl.negotiationId) {
      tl.negotiationId = opts.switchTo;
      tl.windows = []; tl.reachedStart = false; tl.floor = null; tl.seen = null;
      $('#timeline').replaceChildren();
    }
    if (tl.negotiationId === null) return false;
    try {
      let changed = false;
      if (!tl.windows.length) {
        await loadEarlier(TIMELINE_MIN_ITEMS);
        changed = true;
      } else {
        if (!tl.reachedStart) {
          // An event older than the oldest known one moves the start.
          const probe = await getDoc(`${timelineBase()}?limit=1`);
          const first = (probe.data.data || [])[0];
          if (first) tl.floor = first.date;
        }
        for (const w of tl.windows) if (await fetchWindow(w)) changed = true;
        if (opts && opts.more) { await loadEarlier(1); changed = true; }
      }
      if (changed) renderTimeline();
      return changed;
    } catch (err) {
      const msg = $('#timeline-message');
      msg.textContent = `Could not load the timeline: ${describeError(err)}.`;
      msg.hidden = false;
      msg.classList.add('error');
      throw err;
    }
  }

  function itemKey(it) { return `${it.date}|${it.kind}|${it.ref ? `${it.ref.type}/${it.ref.id}` : ''}|${it.title}`; }

  function renderTimeline() {
    const list = $('#timeline');
    const msg = $('#timeline-message');
    const items = [];
    for (const w of tl.windows) {
      const inWindow = [];
      for (const p of w.pages) inWindow.push(...p.items);
      items.push(...inWindow.reverse());
    }
    msg.classList.remove('error');
    if (!items.length) {
      msg.textContent = 'No dated events yet.';
      msg.hidden = false;
    } else msg.hidden = true;
    const seenBefore = tl.seen;
    tl.seen = new Set();
    const rec = state.recordThrough;
    const lis = items.map((it) => {
      const key = itemKey(it);
      tl.seen.add(key);
      const future = it.date > state.today;
      const beyond = rec && it.date > rec;
      const fresh = seenBefore && !seenBefore.has(key);
      return el('li', {
        class: `tl-item kind-${it.kind}${future ? ' is-upcoming' : ''}${fresh ? ' is-new' : ''}`,
        dataset: { kind: it.kind, date: it.date },
      },
      timeEl(it.date, 'tl-date'),
      el('div', { class: 'tl-body' },
        el('p', { class: 'tl-kind' }, el('span', { class: `kind-tag kind-tag-${kindGroup(it.kind)}`, text: KIND_LABELS[it.kind] || humanize(it.kind) }),
          future ? badge('upcoming', 'badge-upcoming') : null,
          beyond && !future ? badge('after the checked record', 'badge-beyond') : null),
        el('p', { class: 'tl-title', text: nbspPct(it.title || '') })));
    });
    fill(list, ...lis);
    const more = $('#timeline-more');
    more.hidden = tl.reachedStart || !items.length;
    more.disabled = false;
  }

  function kindGroup(kind) {
    if (kind.startsWith('round_')) return 'round';
    if (kind.startsWith('tariff_')) return 'tariff';
    if (kind.startsWith('export_control_')) return 'export';
    if (kind === 'issue_update') return 'issue';
    if (kind === 'statement') return 'statement';
    return 'other';
  }

  // ================================================================ export controls
  const ec = { extraPages: [], next: null };

  function exportsUrl() { return `/v1/export-controls?in_effect_on=${state.today}&limit=100`; }

  async function refreshExports() {
    const summary = $('#export-controls-summary');
    const list = $('#export-controls-list');
    let res;
    try {
      res = await getDoc(exportsUrl());
    } catch (err) {
      list.replaceChildren();
      $('#export-controls-more').hidden = true;
      if (err instanceof HttpError && err.status === 404) {
        summary.textContent = 'Export controls are not available on this server.';
        summary.classList.remove('error');
        return false; // not a failure: this server has no such endpoint (yet)
      }
      summary.textContent = `Could not load the export controls: ${describeError(err)}.`;
      summary.classList.add('error');
      throw err;
    }
    summary.classList.remove('error');
    if (!res.changed && list.dataset.url === exportsUrl()) return false;
    list.dataset.url = exportsUrl();
    ec.extraPages = [];
    ec.next = res.data.next_cursor || null;
    renderExports(res.data.data || []);
    return true;
  }

  async function moreExports() {
    if (!ec.next) return;
    const btn = $('#export-controls-more');
    btn.disabled = true;
    try {
      const res = await getDoc(`/v1/export-controls?cursor=${encodeURIComponent(ec.next)}&limit=100`);
      ec.extraPages.push(res.data.data || []);
      ec.next = res.data.next_cursor || null;
      const first = documents.get(exportsUrl());
      renderExports([...(first ? first.data.data || [] : []), ...ec.extraPages.flat()]);
    } finally { btn.disabled = false; }
  }

  function renderExports(records) {
    const summary = $('#export-controls-summary');
    const list = $('#export-controls-list');
    fill(summary, 
      records.length ? `${records.length}${ec.next ? '+' : ''} in force on ` : 'None in force on ', timeEl(state.today), '.');
    fill(list, ...records.map((r) => {
      const to = (r.applies_to && r.applies_to.length) ? r.applies_to.join(', ') : 'all destinations';
      const susp = r.suspensions || [];
      return el('li', { class: 'export-control', dataset: { id: r.id } },
        el('p', { class: 'ec-head' },
          el('span', { class: 'ec-who', text: `${r.imposed_by} → ${to}` }),
          badge(CONTROL_LABELS[r.control] || humanize(r.control), `control-${r.control}`)),
        el('p', { class: 'ec-items', text: nbspPct((r.items || []).join(', ')) }),
        r.legal_basis ? el('p', { class: 'ec-basis', text: r.legal_basis }) : null,
        el('p', { class: 'ec-dates' }, 'In force ', dateRangeEl(r.effective_from, r.effective_until),
          r.effective_until ? ' (until is exclusive)' : ', no end date'),
        susp.length ? el('ul', { class: 'ec-susp' }, susp.map((s) => {
          const when = s.until && s.until <= state.today ? 'Was suspended' : s.from > state.today ? 'To be suspended' : 'Suspended';
          return el('li', null, `${when} `, dateRangeEl(s.from, s.until), s.note ? ` — ${s.note}` : '');
        })) : null);
    }));
    $('#export-controls-more').hidden = !ec.next;
  }

  // ================================================================ refresh scheduling
  const refreshers = { status: refreshStatus, chart: refreshChart, timeline: refreshTimeline, exports: refreshExports };
  const pending = new Set();
  let flushTimer = null;
  let flushing = null;

  function schedule(parts) {
    for (const p of parts) pending.add(p);
    if (!pending.size || flushTimer) return;
    flushTimer = setTimeout(flush, DEBOUNCE_MS);
  }

  async function flush() {
    flushTimer = null;
    if (flushing) { await flushing.catch(() => {}); }
    if (!pending.size) return;
    const parts = [...pending];
    pending.clear();
    // Status first: it carries the server's "today" the other documents use.
    const failed = [];
    flushing = (async () => {
      if (parts.includes('status')) await refreshers.status().catch(() => failed.push('status'));
      const rest = parts.filter((p) => p !== 'status');
      const results = await Promise.allSettled(rest.map((p) => refreshers[p]()));
      results.forEach((r, i) => { if (r.status === 'rejected') failed.push(rest[i]); });
    })();
    try { await flushing; } finally { flushing = null; }
    if (failed.length) setTimeout(() => schedule(failed), RETRY_MS); // e.g. the server restarting
    if (pending.size && !flushTimer) flushTimer = setTimeout(flush, DEBOUNCE_MS);
  }

  // ================================================================ live stream
  const live = { es: null, errorsSinceOpen: 0, retryTimer: null, retryDelay: 2000, wasClosed: false };

  function setIndicator(stateName) {
    const texts = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', down: 'Stream down — retrying' };
    const ind = $('#status-indicator');
    if (ind.dataset.state === stateName) return;
    ind.dataset.state = stateName;
    ind.querySelector('.status-text').textContent = texts[stateName];
    ind.title = stateName === 'live' ? 'Receiving changes from /v1/changes as they happen' : '';
  }

  function openStream() {
    clearTimeout(live.retryTimer);
    live.retryTimer = null;
    // A new EventSource carries no Last-Event-ID, so start from the last seq seen.
    // The browser's own reconnects resend Last-Event-ID, which the server prefers.
    const url = state.lastSeq !== null ? `/v1/changes?since=${state.lastSeq}` : '/v1/changes';
    const es = new EventSource(url);
    live.es = es;
    es.onopen = () => {
      live.errorsSinceOpen = 0;
      live.retryDelay = 2000;
      setIndicator('live');
      if (live.wasClosed) { live.wasClosed = false; schedule(ALL_PARTS); } // cheap: 304s unless something changed
    };
    const onChange = (ev) => {
      let change = null;
      try { change = JSON.parse(ev.data); } catch (_) { return; }
      const seq = Number(ev.lastEventId || (change && change.seq));
      if (Number.isFinite(seq)) {
        if (state.lastSeq !== null && seq <= state.lastSeq) return; // already seen
        state.lastSeq = seq;
      }
      const parts = (change && TOUCHES[change.resource]) || ALL_PARTS;
      if (change && change.resource === 'tariff-measures') dropRateDocs();
      schedule(parts);
    };
    for (const type of ['created', 'updated', 'deleted', 'message']) es.addEventListener(type, onChange);
    es.onerror = () => {
      if (es !== live.es) return;
      live.errorsSinceOpen += 1;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error, or not an event stream): retry ourselves.
        setIndicator('down');
        live.wasClosed = true;
        es.close();
        scheduleReopen();
      } else {
        // The browser reconnects by itself and sends Last-Event-ID.
        setIndicator(live.errorsSinceOpen >= 3 ? 'down' : 'reconnecting');
      }
    };
  }

  function scheduleReopen() {
    clearTimeout(live.retryTimer);
    const delay = live.retryDelay;
    live.retryDelay = Math.min(live.retryDelay * 2, 15000);
    live.retryTimer = setTimeout(async () => {
      // Is our position still kept? 410 means the log was pruned past it: reload everything.
      if (state.lastSeq !== null) {
        try {
          const r = await fetch(`/v1/changes?since=${state.lastSeq}&limit=1`, { cache: 'no-store', headers: { Accept: 'application/json' } });
          if (r.status === 410) { state.lastSeq = null; await refreshStatus().catch(() => {}); schedule(ALL_PARTS); }
        } catch (_) { scheduleReopen(); return; }
      }
      openStream();
    }, delay);
  }

  function dropRateDocs() {
    // Measure documents of steps are only read on hover; forget them so the next
    // hover re-reads (the open panel is refreshed with the chart).
    for (const url of [...documents.keys()]) if (url.startsWith('/v1/tariff-rates?')) documents.delete(url);
  }

  // ================================================================ start
  async function start() {
    $('#timeline-more').addEventListener('click', async (ev) => {
      const btn = ev.currentTarget;
      btn.disabled = true;
      const firstNew = countItems();
      try { await refreshTimeline({ more: true }); } catch (_) { /* message shown */ }
      btn.disabled = false;
      const li = $('#timeline').children[firstNew];
      if (li) { li.tabIndex = -1; li.focus(); } // move on to the first newly loaded event
    });
    $('#export-controls-more').addEventListener('click', () => { moreExports().catch(() => {}); });
    $('#timeline-negotiation').addEventListener('change', (ev) => {
      refreshTimeline({ switchTo: Number(ev.target.value) }).catch(() => {});
    });
    if (window.ResizeObserver) {
      let t = null;
      new ResizeObserver(() => {
        clearTimeout(t);
        t = setTimeout(() => {
          const w = Math.round($('#chart-container').clientWidth);
          if (w && Math.abs(w - chart.width) > 1) renderChart();
        }, 120);
      }).observe($('#chart-container'));
    }

    // Status first: it gives the server's today and the change seq to stream from,
    // so nothing written between this read and the stream opening is missed.
    const failed = [];
    await refreshStatus().catch(() => failed.push('status'));
    openStream();
    const rest = await Promise.allSettled([refreshChart(), refreshTimeline(), refreshExports()]);
    rest.forEach((r, i) => { if (r.status === 'rejected') failed.push(['chart', 'timeline', 'exports'][i]); });
    if (failed.length) setTimeout(() => schedule(failed), RETRY_MS);
    // "Today" moves without any write (rates as of today, controls in force today):
    // revalidate everything now and then; unchanged documents cost a 304.
    setInterval(() => schedule(ALL_PARTS), 5 * 60 * 1000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
