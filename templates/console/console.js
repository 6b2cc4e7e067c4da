/*
 * console.js - what the staff console does with JavaScript on: the
 * progress page (/campaigns/ID/progress) updates its numbers from
 * progress.json without reloading.  Every page works without it (the
 * progress page then reloads itself).  No framework, no build step.
 */
(function () {
	"use strict";

	var box = document.getElementById("progress");
	var every = 2000;

	if (!box || !window.fetch)
		return;

	function set(id, text) {
		var el = document.getElementById(id);

		if (el && el.textContent !== String(text))
			el.textContent = String(text);
	}

	function show(p) {
		var meter = document.getElementById("progress-meter");

		if (meter) {
			meter.value = p.percent;
			meter.textContent = p.percent + "%";
		}
		set("progress-percent", p.percent);
		set("progress-sent", p.sent);
		set("progress-failed", p.failed);
		set("progress-skipped", p.skipped);
		set("progress-left", p.left);
		set("progress-deferred", p.deferred);
		set("progress-status", p.status);
		set("progress-rate", p.rate);
		set("progress-eta", p.time_left ? " About " + p.time_left +
		    " left." : "");
	}

	function look() {
		fetch("/campaigns/" + encodeURIComponent(box.dataset.id) +
		    "/progress.json", { credentials: "same-origin" })
		    .then(function (r) {
			if (!r.ok)
				throw new Error(r.status);
			return r.json();
		    })
		    .then(function (p) {
			show(p);
			if (!p.finished)
				setTimeout(look, every);
		    })
		    .catch(function () {
			setTimeout(look, every * 5);
		    });
	}
	setTimeout(look, every);
}());
