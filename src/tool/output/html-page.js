/* SPDX-License-Identifier: MIT */
/*
 * html-page.js: the script of `mmaplock report --html` (embedded in the page
 * at build time). It draws, from the JSON object in #mml-data
 * (out-html-data.c): the latency heatmap over time (canvas), the rates and
 * wait p99 per interval, the longest waits each in a window of its mm, and
 * the flame graphs. The groups shown are those of a level (memcg,
 * container/pod, process: the data's "levels", each its kept groups and
 * "other"); a click on a group (summary row, histogram, button) filters
 * every chart that has per-group data; a drag on the heatmap or the time
 * series zooms the time axis (double-click: whole recording); a drag or the
 * wheel on a longest wait's window zooms that window (double-click or its
 * button: back to the whole window).
 * Nothing is fetched; no console output.
 */
'use strict';
(function () {
	var T0 = performance.now();
	var D = JSON.parse(document.getElementById('mml-data').textContent);
	var S = { g: -1, lv: D.levels[D.level] ? D.level : 0, kind: 'wait', z0: 0, z1: 0, flame: 'wait' };
	var WZ = {};	/* per longest wait (index): the window's visible [t0, t1] when zoomed */
	var tip = document.getElementById('tip');

	function $(id) { return document.getElementById(id); }
	function esc(s) {
		return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
			.replace(/"/g, '&quot;');
	}
	/* ns as a short human figure, exact to 4 digits */
	function fmt(ns) {
		var a = Math.abs(ns);
		if (a >= 1e9) return (ns / 1e9).toFixed(a >= 1e10 ? 2 : 3) + ' s';
		if (a >= 1e6) return (ns / 1e6).toFixed(a >= 1e7 ? 2 : 3) + ' ms';
		if (a >= 1e3) return (ns / 1e3).toFixed(a >= 1e4 ? 2 : 3) + ' us';
		return ns + ' ns';
	}
	function secs(ns) { return (ns / 1e9).toFixed(6) + ' s'; }
	/* an axis label: as many decimals as a tenth of the span needs */
	function tick(t, sp) {
		var d = Math.max(0, Math.min(9, Math.ceil(-Math.log10((sp[1] - sp[0]) / 10 / 1e9))));
		var v = (t / 1e9).toFixed(d);
		return (+v === 0 ? (0).toFixed(d) : v) + ' s';
	}
	function showTip(ev, html) {
		tip.innerHTML = html;
		tip.style.display = 'block';
		tip.style.left = (ev.pageX + 12) + 'px';
		tip.style.top = (ev.pageY + 12) + 'px';
	}
	function hideTip() { tip.style.display = 'none'; }

	function level() { return D.levels[S.lv] || { by: D.by, g: [], other: null }; }
	/* group g of the level shown: its kept groups, then "other" */
	function lgroup(g) {
		var l = level();
		return g < l.g.length ? l.g[g] : l.other;
	}
	function grid() {
		var x;
		if (S.g < 0) return D.all;
		x = lgroup(S.g);
		return x ? x.grid : null;
	}
	function span() {
		var t1 = D.t0 + D.ncols * D.width;
		return S.z1 > S.z0 ? [S.z0, S.z1] : [D.t0, Math.max(t1, D.t0 + 1)];
	}
	function groupName() { return S.g < 0 ? 'all groups' : lgroup(S.g).name; }

	/* ---- the heatmap: columns of time, rows of latency, colour = count ---- */
	var HM = { L: 70, R: 10, T: 8, B: 30, W: 1000, RH: 7 };
	function heat(c, max) {
		/* white -> yellow -> orange -> dark red, on log(count) */
		var f = Math.log(1 + c) / Math.log(1 + max);
		var r = 255, g = Math.round(255 - 200 * f), b = Math.round(200 * (1 - f) * (1 - f));
		if (f > 0.6) r = Math.round(255 - (f - 0.6) * 250);
		return 'rgb(' + r + ',' + g + ',' + b + ')';
	}
	function rowRange() {
		var gr = grid(), lo = 99, hi = 0, a, k;
		if (!gr) return [0, 0];
		a = gr[S.kind];
		for (k = 0; k < a.length; k += 3) {
			lo = Math.min(lo, a[k + 1]);
			hi = Math.max(hi, a[k + 1]);
		}
		return hi >= lo ? [Math.max(0, lo - 1), Math.min(D.rows.length - 1, hi + 1)] : [0, 0];
	}
	function drawHeatmap() {
		var cv = $('heatmap'), gr = grid(), sp = span(), rr = rowRange();
		var nrow = rr[1] - rr[0] + 1, h = HM.T + nrow * HM.RH + HM.B;
		var ctx, a, k, max = 0, x0, x1, y, c0, c1, cw, i, t, ticks;
		cv.width = HM.L + HM.W + HM.R;
		cv.height = h;
		ctx = cv.getContext('2d');
		ctx.fillStyle = '#fff';
		ctx.fillRect(0, 0, cv.width, cv.height);
		$('heatmap-title').textContent = (S.kind === 'wait' ? 'Wait' : 'Hold') +
			' latency over time, ' + groupName() + ': ' + D.ncols + ' intervals of ' +
			fmt(D.width) + (S.z1 > S.z0 ? ' (zoomed: ' + secs(sp[0]) + ' to ' + secs(sp[1]) +
			'; double-click for all)' : '');
		if (!gr) {
			ctx.fillStyle = '#555';
			ctx.fillText('no per-interval figures for this group (see the note above)', HM.L, 20);
			return;
		}
		a = gr[S.kind];
		for (k = 0; k < a.length; k += 3)
			max = Math.max(max, a[k + 2]);
		cw = HM.W / ((sp[1] - sp[0]) / D.width);
		for (k = 0; k < a.length; k += 3) {
			c0 = D.t0 + a[k] * D.width;
			c1 = c0 + D.width;
			if (c1 <= sp[0] || c0 >= sp[1]) continue;
			x0 = HM.L + (Math.max(c0, sp[0]) - sp[0]) / (sp[1] - sp[0]) * HM.W;
			x1 = HM.L + (Math.min(c1, sp[1]) - sp[0]) / (sp[1] - sp[0]) * HM.W;
			y = HM.T + (rr[1] - a[k + 1]) * HM.RH;
			ctx.fillStyle = heat(a[k + 2], max);
			ctx.fillRect(x0, y, Math.max(1, x1 - x0), HM.RH);
		}
		ctx.strokeStyle = '#888';
		ctx.strokeRect(HM.L, HM.T, HM.W, nrow * HM.RH);
		ctx.fillStyle = '#222';
		ctx.font = '10px sans-serif';
		for (i = rr[0]; i <= rr[1]; i += 2)
			ctx.fillText(i ? '\u2265' + fmt(D.rows[i]) : '<1 us', 2,
				HM.T + (rr[1] - i + 1) * HM.RH);
		ticks = 10;
		for (i = 0; i <= ticks; i++) {
			t = sp[0] + (sp[1] - sp[0]) * i / ticks;
			ctx.fillText(tick(t, sp), HM.L + HM.W * i / ticks - 16,
				HM.T + nrow * HM.RH + 14);
		}
		ctx.fillText('colour: count (log), max ' + max + ' per cell', HM.L, h - 4);
		cv.dataset.rows = rr.join(',');
		void cw;
	}
	function heatAt(ev) {
		var cv = $('heatmap'), r = cv.getBoundingClientRect(), sp = span(), rr = rowRange();
		var x = ev.clientX - r.left, y = ev.clientY - r.top, t, col, row, gr = grid(), a, k, n = 0;
		if (!gr || x < HM.L || x > HM.L + HM.W) return null;
		t = sp[0] + (x - HM.L) / HM.W * (sp[1] - sp[0]);
		col = Math.floor((t - D.t0) / D.width);
		row = rr[1] - Math.floor((y - HM.T) / HM.RH);
		if (row < rr[0] || row > rr[1]) return { t: t, col: col, row: -1, n: 0 };
		a = gr[S.kind];
		for (k = 0; k < a.length; k += 3)
			if (a[k] === col && a[k + 1] === row) n = a[k + 2];
		return { t: t, col: col, row: row, n: n };
	}

	/* ---- the time series: acquisitions/s, contended waits/s, wait p99 ---- */
	function p99(gr, col) {
		var rows = [], k, tot = 0, acc = 0, r;
		for (k = 0; k < gr.wait.length; k += 3)
			if (gr.wait[k] === col) { rows.push([gr.wait[k + 1], gr.wait[k + 2]]); tot += gr.wait[k + 2]; }
		if (!tot) return 0;
		rows.sort(function (a, b) { return a[0] - b[0]; });
		for (r = 0; r < rows.length; r++) {
			acc += rows[r][1];
			if (acc >= 0.99 * tot) break;
		}
		r = rows[Math.min(r, rows.length - 1)][0];
		return r + 1 < D.rows.length ? D.rows[r + 1] : D.rows[r] * 2;
	}
	function series() {
		var gr = grid(), out = { acq: [], cont: [], p99: [] }, i;
		if (!gr) return null;
		for (i = 0; i < D.ncols; i++) {
			out.acq.push(gr.acq[i] * 1e9 / D.width);
			out.cont.push(gr.cont[i] * 1e9 / D.width);
			out.p99.push(p99(gr, i));
		}
		return out;
	}
	function line(vals, sp, yf, color, cls) {
		var p = [], i, t, x;
		for (i = 0; i < vals.length; i++) {
			t = D.t0 + (i + 0.5) * D.width;
			if (t < sp[0] - D.width || t > sp[1] + D.width) continue;
			x = HM.L + (t - sp[0]) / (sp[1] - sp[0]) * HM.W;
			p.push(x.toFixed(1) + ',' + yf(vals[i]).toFixed(1));
		}
		return '<polyline class="' + cls + '" fill="none" stroke="' + color +
			'" stroke-width="1.5" points="' + p.join(' ') + '"/>';
	}
	function drawSeries() {
		var s = series(), sp = span(), H = 120, out = [], maxr = 1, maxp = 1, i, t, yr, yp;
		var W = HM.L + HM.W + HM.R + 60;
		if (!s) {
			$('timeseries').innerHTML = '<p>No per-interval figures for this group.</p>';
			return;
		}
		for (i = 0; i < D.ncols; i++) {
			maxr = Math.max(maxr, s.acq[i], s.cont[i]);
			maxp = Math.max(maxp, s.p99[i]);
		}
		yr = function (v) { return 10 + H - v / maxr * H; };
		yp = function (v) { return 10 + H - (v > 1000 ? Math.log(v / 1000) / Math.log(maxp / 1000 + 1) : 0) * H; };
		out.push('<svg id="timeseries-svg" width="' + W + '" height="' + (H + 40) + '">');
		out.push('<rect x="' + HM.L + '" y="10" width="' + HM.W + '" height="' + H +
			'" fill="none" stroke="#888"/>');
		out.push(line(s.acq, sp, yr, '#36c', 'acq'), line(s.cont, sp, yr, '#d33', 'cont'),
			line(s.p99, sp, yp, '#000', 'p99'));
		out.push('<text x="2" y="18" font-size="10">' + Math.round(maxr) + '/s</text>');
		out.push('<text x="2" y="' + (H + 10) + '" font-size="10">0/s</text>');
		out.push('<text x="' + (HM.L + HM.W + 4) + '" y="18" font-size="10">' + fmt(maxp) + '</text>');
		out.push('<text x="' + (HM.L + HM.W + 4) + '" y="' + (H + 10) + '" font-size="10">1 us</text>');
		for (i = 0; i <= 10; i++) {
			t = sp[0] + (sp[1] - sp[0]) * i / 10;
			out.push('<text x="' + (HM.L + HM.W * i / 10 - 16) + '" y="' + (H + 24) +
				'" font-size="10">' + tick(t, sp) + '</text>');
		}
		out.push('<text x="' + HM.L + '" y="' + (H + 38) + '" font-size="11">' +
			'<tspan fill="#36c">\u2014 acquisitions/s</tspan>  <tspan fill="#d33">\u2014 contended waits/s (' +
			esc(D.contended) + ')</tspan>  <tspan fill="#000">\u2014 wait p99 (right, log; upper bound of its row)</tspan></text>');
		out.push('<rect class="hover" x="' + HM.L + '" y="10" width="' + HM.W + '" height="' + H +
			'" fill="transparent"/></svg>');
		$('timeseries').innerHTML = out.join('');
		$('timeseries').series = s;
	}
	function seriesAt(ev) {
		var svg = $('timeseries-svg'), r, x, sp = span(), t, col, s = $('timeseries').series;
		if (!svg || !s) return null;
		r = svg.getBoundingClientRect();
		x = ev.clientX - r.left;
		if (x < HM.L || x > HM.L + HM.W) return null;
		t = sp[0] + (x - HM.L) / HM.W * (sp[1] - sp[0]);
		col = Math.floor((t - D.t0) / D.width);
		if (col < 0 || col >= D.ncols) return null;
		return { t: t, col: col, acq: s.acq[col], cont: s.cont[col], p99: s.p99[col] };
	}

	/* drag to zoom, on an element whose x maps like the heatmap's */
	function brush(el) {
		var x0 = null, box = $('brush');
		el.addEventListener('mousedown', function (ev) {
			x0 = ev.clientX;
			ev.preventDefault();
		});
		window.addEventListener('mouseup', function (ev) {
			var r, sp, a, b;
			if (x0 === null) return;
			box.style.display = 'none';
			r = el.getBoundingClientRect();
			a = Math.min(x0, ev.clientX) - r.left - HM.L;
			b = Math.max(x0, ev.clientX) - r.left - HM.L;
			x0 = null;
			if (b - a < 4) return;
			sp = span();
			a = Math.max(0, a);
			b = Math.min(HM.W, b);
			S.z0 = sp[0] + a / HM.W * (sp[1] - sp[0]);
			S.z1 = sp[0] + b / HM.W * (sp[1] - sp[0]);
			drawTime();
		});
		el.addEventListener('mousemove', function (ev) {
			if (x0 === null) return;
			box.style.display = 'block';
			box.style.left = (Math.min(x0, ev.clientX) + window.scrollX) + 'px';
			box.style.width = Math.abs(ev.clientX - x0) + 'px';
			box.style.top = (el.getBoundingClientRect().top + window.scrollY) + 'px';
			box.style.height = el.getBoundingClientRect().height + 'px';
		});
		el.addEventListener('dblclick', function () {
			S.z0 = S.z1 = 0;
			drawTime();
		});
	}
	function drawTime() {
		drawHeatmap();
		drawSeries();
	}

	/* ---- the longest waits, each in a window of its mm ---- */
	var KIND = ['wait', 'hold', 'failed wait'];
	var WIN = { L: 150, W: 900 };
	function winSvg(w, idx) {
		var rows = {}, order = [], out = [], W = WIN.W, L = WIN.L, RH = 16, i, v, y, x, bw, col, cls, t;
		var z = WZ[idx], w0 = z ? z[0] : w.w0, w1 = z ? z[1] : w.w1, hid = w.holder ? w.holder.tid : -1, label, n;
		var X = function (t) { return L + (t - w0) / (w1 - w0) * W; };
		function row(tid, name) {
			if (!(tid in rows)) { rows[tid] = order.length; order.push([tid, name]); }
		}
		row(w.tid, w.task);
		if (w.holder) row(hid, w.holder.task);
		for (i = 0; i < w.iv.length; i++)
			row(w.iv[i][0], w.iv[i][1] + '[' + w.iv[i][0] + ']');
		out.push('<svg class="window" id="window-' + w.rank + '" data-w0="' + w.w0 + '" data-w1="' + w.w1 +
			'" data-v0="' + w0 + '" data-v1="' + w1 + '" data-i="' + idx + '" width="' + (L + W + 40) +
			'" height="' + (order.length * RH + 30) + '">');
		for (i = 0; i < order.length; i++) {
			label = order[i][1] + (order[i][0] === w.tid ? ' (waiter)' : order[i][0] === hid ? ' (holder)' : '');
			out.push('<text x="0" y="' + (i * RH + 12) + '" font-size="11"' +
				(order[i][0] === hid ? ' class="holder-name" font-weight="bold"' : '') + '>' + esc(label) + '</text>');
		}
		for (i = 0; i < w.iv.length; i++) {
			v = w.iv[i];
			if (v[4] >= w1 || v[4] + v[5] <= w0) continue;
			y = rows[v[0]] * RH + 2;
			x = X(Math.max(v[4], w0));
			bw = Math.max(0.8, X(Math.min(v[4] + v[5], w1)) - x);
			col = v[2] === 1 ? (v[3] ? '#36c' : '#3a3') : v[2] === 2 ? '#e80' : '#d33';
			cls = v[2] === 1 ? 'hold' : 'wait';
			if (v[0] === w.tid && v[4] === w.start && v[2] !== 1) cls += ' the-wait';
			if (w.holder && v[0] === hid && v[2] === 1 && v[4] === w.holder.start) cls += ' the-holder';
			out.push('<rect class="' + cls + '" x="' + x.toFixed(2) + '" y="' + y + '" width="' +
				bw.toFixed(2) + '" height="' + (RH - 4) + '" fill="' + col + '"><title>' +
				esc(v[1] + '[' + v[0] + '] ' + KIND[v[2]] + ' ' + (v[3] ? 'write' : 'read') + ' ' +
				fmt(v[5]) + ' (' + v[5] + ' ns) from ' + secs(v[4])) + '</title></rect>');
		}
		n = order.length * RH;
		for (i = 0; i <= 6; i++) {
			t = w0 + (w1 - w0) * i / 6;
			out.push('<text x="' + X(t) + '" y="' + (n + 14) + '" font-size="10" text-anchor="middle">' +
				(t / 1e9).toFixed(z ? 9 : 6) + '</text>');
		}
		if (w.start >= w0 && w.start <= w1)
			out.push('<line x1="' + X(w.start) + '" x2="' + X(w.start) + '" y1="0" y2="' + n +
				'" stroke="#000" stroke-dasharray="2,2"/>');
		out.push('<text x="' + L + '" y="' + (n + 27) + '" font-size="10">s from the start; red: waiting, ' +
			'blue: holding for write, green: for read, orange: a failed wait; outlined: this wait and its holder' +
			(w.dropped ? '; ' + w.dropped + ' more intervals in the window not drawn' : '') +
			(z ? '; zoomed: ' + fmt(w1 - w0) + ' of ' + fmt(w.w1 - w.w0) : '; drag or wheel to zoom') + '</text>');
		out.push('</svg>');
		return out.join('');
	}
	function stackHtml(title, fr) {
		if (!fr) return '';
		return '<details><summary>' + esc(title) + '</summary><pre>' + esc(fr.join('\n')) + '</pre></details>';
	}
	function drawWorst() {
		var out = [], i, w, shown = 0, h;
		for (i = 0; i < D.worst.length; i++) {
			w = D.worst[i];
			if (S.g >= 0 && !(w.lg && w.lg[S.lv] === S.g)) continue;
			shown++;
			h = w.holder;
			out.push('<div class="worst" id="worst-' + w.rank + '" data-start="' + w.start + '" data-dur="' +
				w.dur + '"><h3>#' + w.rank + ' ' + esc(w.task) + ' waited <b>' + fmt(w.dur) + '</b> for ' +
				(w.write ? 'write' : 'read') + (w.failed ? ' (failed)' : '') + ' at ' + secs(w.start) +
				'</h3><p>memcg ' + esc(w.memcg) + (w.cgroup ? ', cgroup ' + esc(w.cgroup) : '') + ', mm ' + w.mm +
				(w.group >= 0 ? ', group ' + esc(D.groups[w.group].name) : '') + '. Holder: ' +
				(h ? '<span class="holder">' + esc(h.task) + '</span> (' + (h.write ? 'write' : 'read') +
				', held ' + fmt(h.dur) + ' from ' + secs(h.start) + ', overlapping the wait ' + fmt(h.overlap) +
				(h.cgroup ? ', cgroup ' + esc(h.cgroup) : '') + ')' : 'none recorded') +
				'. <a href="#heatmap-sec" class="zoomto" data-i="' + i + '">show on the heatmap</a></p>');
			if (w.iv) out.push(winSvg(w, i), '<br><button class="wreset" data-i="' + i +
				'">whole window</button>');
			else out.push('<p>No window: the input was read once (stdin).</p>');
			out.push(stackHtml('waiter\'s kernel stack', w.stack), stackHtml('holder\'s kernel stack', h && h.stack));
			out.push('</div>');
		}
		if (!shown) out.push('<p>No wait' + (S.g >= 0 ? ' of this group' : '') + ' among the ' +
			D.worst.length + ' longest.</p>');
		$('worst-list').innerHTML = out.join('');
	}

	/* ---- flame graphs of kernel stacks, by wait and by hold time ---- */
	function flameTree(k) {
		var root = { n: 'all', v: 0, c: {} }, s, i, j, node, fr;
		for (i = 0; i < k.s.length; i++) {
			s = k.s[i];
			node = root;
			root.v += s[1];
			for (j = s[0].length - 1; j >= 0; j--) {
				fr = s[0][j];
				node = node.c[fr] || (node.c[fr] = { n: fr, v: 0, c: {} });
				node.v += s[1];
			}
		}
		if (k.other_ns) { root.c['(other stacks)'] = { n: '(other stacks)', v: k.other_ns, c: {} }; root.v += k.other_ns; }
		if (k.nostack_ns) { root.c['(no stack)'] = { n: '(no stack)', v: k.nostack_ns, c: {} }; root.v += k.nostack_ns; }
		return root;
	}
	function drawFlame() {
		var el = $('flame'), k, root, out = [], W = 1160, RH = 16, depth = 0, rects = [];
		if (!el || !D.flame) return;
		k = D.flame[S.flame];
		root = S.flameRoot || flameTree(k);
		(function walk(n, x, d) {
			var keys = Object.keys(n.c).sort(), i, c, cx = x;
			rects.push([n, x, d]);
			depth = Math.max(depth, d);
			for (i = 0; i < keys.length; i++) {
				c = n.c[keys[i]];
				walk(c, cx, d + 1);
				cx += c.v;
			}
		})(root, 0, 0);
		out.push('<svg id="flame-svg" width="' + W + '" height="' + ((depth + 1) * RH + 4) + '">');
		rects.forEach(function (r, i) {
			var n = r[0], x = r[1] / (root.v || 1) * W, w = n.v / (root.v || 1) * W, y = (depth - r[2]) * RH;
			var hue = 10 + (n.n.length * 7) % 40;
			if (w < 0.3) return;
			out.push('<g class="fr" data-i="' + i + '"><rect x="' + x.toFixed(2) + '" y="' + y + '" width="' +
				w.toFixed(2) + '" height="' + (RH - 1) + '" fill="hsl(' + hue + ',90%,' + (r[2] ? 60 : 80) +
				'%)"><title>' + esc(n.n + ': ' + fmt(n.v) + ' (' + n.v + ' ns, ' +
				(100 * n.v / (root.v || 1)).toFixed(2) + '%)') + '</title></rect>' +
				(w > 40 ? '<text x="' + (x + 3).toFixed(1) + '" y="' + (y + 11) + '" font-size="10">' +
				esc(n.n.slice(0, Math.floor(w / 6))) + '</text>' : '') + '</g>');
		});
		out.push('</svg>');
		el.innerHTML = out.join('');
		el.rects = rects;
		$('flame-title').textContent = 'Kernel stacks weighted by ' + S.flame + ' time (whole recording, ' +
			k.s.length + ' of ' + k.stacks + ' stacks; ' + fmt(k.all_ns) + ' in all). Click a frame to zoom, the bottom bar to go back.';
	}

	/* ---- groups: a level, then click to filter ---- */
	function setGroup(g) {
		var figs = document.querySelectorAll('#hists .hgroup'), i, b = document.querySelectorAll('#groups button');
		var name = g >= 0 && S.lv === D.level && lgroup(g) ? lgroup(g).name : null, any = false;
		S.g = g;
		/* the histograms are the report's groups: filtered when the level is theirs */
		for (i = 0; i < figs.length; i++)
			if (D.groups[+figs[i].dataset.g] && D.groups[+figs[i].dataset.g].name === name) any = true;
		for (i = 0; i < figs.length; i++)
			figs[i].style.display = !any || D.groups[+figs[i].dataset.g].name === name ? '' : 'none';
		for (i = 0; i < b.length; i++)
			b[i].className = +b[i].dataset.g === g ? 'on' : '';
		drawTime();
		drawWorst();
	}
	function groupButtons() {
		var l = level(), out = ['<button data-g="-1"' + (S.g < 0 ? ' class="on"' : '') + '>all</button>'], i, lv = [];
		for (i = 0; i < D.levels.length; i++)
			lv.push('<option value="' + i + '"' + (i === S.lv ? ' selected' : '') + '>' + esc(D.levels[i].by) +
				' (' + D.levels[i].ngroups + ')</option>');
		for (i = 0; i < l.g.length; i++)
			out.push('<button data-g="' + i + '">' + esc(l.g[i].name) + '</button>');
		if (l.other)
			out.push('<button data-g="' + l.g.length + '" class="other">' + esc(l.other.name) + '</button>');
		$('groups').innerHTML = (lv.length ? 'Level: <select id="level">' + lv.join('') + '</select> ' : '') +
			'Show: ' + out.join(' ') + (l.other ? ' <span class="note">(the ' + D.keep + ' groups of this level ' +
			'with the most wait time, the rest summed)</span>' : '');
	}
	function setLevel(lv) {
		S.lv = lv;
		S.g = -1;
		groupButtons();
		setGroup(-1);
	}
	/* a group of the report's own (summary row, histogram): shown at the report's level */
	function pickReportGroup(i) {
		var l, g, name = D.groups[i] ? D.groups[i].name : null;
		if (S.lv !== D.level && D.levels[D.level]) setLevel(D.level);
		l = level();
		for (g = 0; g < l.g.length && l.g[g].name !== name; g++)
			;
		if (g === l.g.length && !l.other) return;
		setGroup(S.g === g ? -1 : g);
	}
	function groupWire() {
		$('groups').addEventListener('click', function (ev) {
			if (ev.target.tagName === 'BUTTON' && ev.target.dataset.g !== undefined) setGroup(+ev.target.dataset.g);
		});
		$('groups').addEventListener('change', function (ev) {
			if (ev.target.id === 'level') setLevel(+ev.target.value);
		});
		var rows = document.querySelectorAll('#summary tr');
		Array.prototype.forEach.call(rows, function (tr, i) {
			if (!i) return;
			tr.style.cursor = 'pointer';
			tr.addEventListener('click', function () { pickReportGroup(i - 1); });
		});
		Array.prototype.forEach.call(document.querySelectorAll('#hists .hgroup h3'), function (h) {
			h.style.cursor = 'pointer';
			h.addEventListener('click', function () { pickReportGroup(+h.parentNode.dataset.g); });
		});
	}

	/* ---- the windows of the longest waits: drag or wheel to zoom ---- */
	function redrawWin(i) {
		var el = $('window-' + D.worst[i].rank);
		if (el) el.outerHTML = winSvg(D.worst[i], i);
	}
	function winZoom(i, a, b) {
		var w = D.worst[i];
		a = Math.max(w.w0, a);
		b = Math.min(w.w1, b);
		if (b - a < 10) b = a + 10;
		WZ[i] = a <= w.w0 && b >= w.w1 ? undefined : [a, b];
		redrawWin(i);
	}
	function winTime(svg, clientX) {
		var i = +svg.dataset.i, z = WZ[i] || [D.worst[i].w0, D.worst[i].w1];
		var x = (clientX - svg.getBoundingClientRect().left - WIN.L) / WIN.W;
		return z[0] + Math.max(0, Math.min(1, x)) * (z[1] - z[0]);
	}
	function winWire() {
		var list = $('worst-list'), drag = null, box = $('brush');
		list.addEventListener('wheel', function (ev) {
			var svg = ev.target.closest && ev.target.closest('svg.window'), i, z, t, f;
			if (!svg) return;
			ev.preventDefault();
			i = +svg.dataset.i;
			z = WZ[i] || [D.worst[i].w0, D.worst[i].w1];
			t = winTime(svg, ev.clientX);
			f = ev.deltaY < 0 ? 0.8 : 1.25;
			winZoom(i, t - (t - z[0]) * f, t + (z[1] - t) * f);
		}, { passive: false });
		list.addEventListener('mousedown', function (ev) {
			var svg = ev.target.closest && ev.target.closest('svg.window');
			if (!svg) return;
			ev.preventDefault();
			drag = { i: +svg.dataset.i, x: ev.clientX, t: winTime(svg, ev.clientX), svg: svg };
		});
		list.addEventListener('mousemove', function (ev) {
			var r;
			if (!drag) return;
			r = drag.svg.getBoundingClientRect();
			box.style.display = 'block';
			box.style.left = (Math.min(drag.x, ev.clientX) + window.scrollX) + 'px';
			box.style.width = Math.abs(ev.clientX - drag.x) + 'px';
			box.style.top = (r.top + window.scrollY) + 'px';
			box.style.height = r.height + 'px';
		});
		window.addEventListener('mouseup', function (ev) {
			var d = drag, t;
			if (!d) return;
			drag = null;
			box.style.display = 'none';
			if (Math.abs(ev.clientX - d.x) < 4) return;
			t = winTime(d.svg, ev.clientX);
			winZoom(d.i, Math.min(d.t, t), Math.max(d.t, t));
		});
		list.addEventListener('dblclick', function (ev) {
			var svg = ev.target.closest && ev.target.closest('svg.window');
			if (svg) winZoom(+svg.dataset.i, -Infinity, Infinity);
		});
		list.addEventListener('click', function (ev) {
			if (ev.target.classList.contains('wreset')) winZoom(+ev.target.dataset.i, -Infinity, Infinity);
		});
	}

	function wire() {
		var cv = $('heatmap');
		cv.addEventListener('mousemove', function (ev) {
			var h = heatAt(ev), c0;
			if (!h) return hideTip();
			c0 = D.t0 + h.col * D.width;
			showTip(ev, secs(c0) + ' to ' + secs(c0 + D.width) + (h.row >= 0 ? '<br>' + S.kind + 's of ' +
				(h.row ? fmt(D.rows[h.row]) : '0') + ' to ' + (h.row + 1 < D.rows.length ? fmt(D.rows[h.row + 1]) : '\u221e') +
				': <b>' + h.n + '</b>' : ''));
		});
		cv.addEventListener('mouseleave', hideTip);
		$('timeseries').addEventListener('mousemove', function (ev) {
			var s = seriesAt(ev), c0;
			if (!s) return hideTip();
			c0 = D.t0 + s.col * D.width;
			showTip(ev, secs(c0) + ' to ' + secs(c0 + D.width) + '<br>acquisitions/s: ' + s.acq.toFixed(0) +
				'<br>contended waits/s: ' + s.cont.toFixed(0) + '<br>wait p99 \u2264 ' + (s.p99 ? fmt(s.p99) : '-'));
		});
		$('timeseries').addEventListener('mouseleave', hideTip);
		brush(cv);
		brush($('timeseries'));
		Array.prototype.forEach.call(document.querySelectorAll('input[name=hmkind]'), function (r) {
			r.addEventListener('change', function () { S.kind = r.value; drawHeatmap(); });
		});
		$('worst-list').addEventListener('click', function (ev) {
			var w;
			if (!ev.target.classList.contains('zoomto')) return;
			w = D.worst[+ev.target.dataset.i];
			S.z0 = w.w0 !== undefined ? w.w0 : w.start - w.dur;
			S.z1 = w.w1 !== undefined ? w.w1 : w.start + 2 * w.dur;
			if (S.z1 - S.z0 < 4 * D.width) { S.z0 = w.start - 2 * D.width; S.z1 = w.start + 3 * D.width; }
			drawTime();
		});
		if ($('flame')) {
			Array.prototype.forEach.call(document.querySelectorAll('input[name=flkind]'), function (r) {
				r.addEventListener('change', function () { S.flame = r.value; S.flameRoot = null; drawFlame(); });
			});
			$('flame').addEventListener('click', function (ev) {
				var g = ev.target.closest('.fr'), r;
				if (!g) return;
				r = $('flame').rects[+g.dataset.i];
				S.flameRoot = r[2] === 0 ? null : { n: r[0].n, v: r[0].v, c: r[0].c };
				drawFlame();
			});
		}
	}

	groupButtons();
	groupWire();
	winWire();
	wire();
	drawTime();
	drawWorst();
	drawFlame();
	document.body.dataset.rendered = '1';
	$('render-ms').textContent = (performance.now() - T0).toFixed(0);
})();
