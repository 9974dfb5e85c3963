// Progressive enhancement of the calendar: with a mouse, a post that may
// still move can be dragged by its first line to another day (month view:
// it keeps its time of day, in the workspace's timezone) or another hour
// (week view: it keeps its minutes). The drop fills in the post's own move
// form and sends it to the same address, with its CSRF token; the answer
// (the calendar again, or the refusal next to the post, in the user's
// language) replaces the page's main part. Without script, with a keyboard
// or on a touch screen, the move form does the same.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser || !window.matchMedia ||
      !window.matchMedia("(pointer: fine)").matches) {
    return;
  }

  var dragged = null;

  function grid() {
    return document.querySelector("ol.cal.month, ol.cal.week");
  }

  // Marks the first line of every movable post as a drag handle.
  function enhance() {
    var cal = grid();
    if (!cal) {
      return;
    }
    cal.querySelectorAll("li.entry").forEach(function (entry) {
      var form = entry.querySelector("form.move-form");
      var head = entry.querySelector(".entry-head");
      if (form && head) {
        head.draggable = true;
        head.classList.add("drag-handle");
      }
    });
    var hint = document.getElementById("drag-hint");
    if (hint) {
      hint.hidden = false;
    }
  }

  // Where a drop lands: {date, hour} (hour only in the week view).
  function target(el) {
    var cal = grid();
    if (!cal || !el || !el.closest) {
      return null;
    }
    var day = el.closest("li.day[data-date]");
    if (!day || !cal.contains(day)) {
      return null;
    }
    if (cal.classList.contains("week")) {
      var hour = el.closest("li.hour[data-hour]");
      return hour ? { el: hour, date: day.getAttribute("data-date"), hour: hour.getAttribute("data-hour") } : null;
    }
    return { el: day, date: day.getAttribute("data-date"), hour: null };
  }

  function clearMarks() {
    document.querySelectorAll(".drop-target").forEach(function (el) {
      el.classList.remove("drop-target");
    });
  }

  // Replaces the page's main part with the answer's.
  function show(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var next = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!next || !main) {
      return false;
    }
    main.replaceWith(document.adoptNode(next));
    if (doc.title) {
      document.title = doc.title;
    }
    if (url) {
      history.replaceState(null, "", url);
    }
    enhance();
    return true;
  }

  function move(entry, to) {
    var form = entry.querySelector("form.move-form");
    var stamp = entry.querySelector("time");
    if (!form || !stamp) {
      return;
    }
    // "2030-03-10T09:30": the post's own date and time, in the workspace's zone.
    var was = (stamp.getAttribute("datetime") || "").split("T");
    var time = was[1] || "";
    if (to.hour !== null) {
      time = to.hour + ":" + (time.split(":")[1] || "00");
    }
    if (to.date === was[0] && time === was[1]) {
      return;
    }
    form.elements.date.value = to.date;
    form.elements.time.value = time;
    var id = form.getAttribute("data-post");
    entry.classList.add("moving");
    grid().setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    }).then(function (r) {
      return r.text().then(function (html) {
        if (!show(html, r.redirected ? r.url : null)) {
          form.submit();
          return;
        }
        var now = document.getElementById("post-" + id);
        var refusal = document.getElementById("e-move-" + id);
        if (refusal) {
          refusal.setAttribute("tabindex", "-1");
          refusal.focus();
        } else if (now) {
          now.scrollIntoView({ block: "nearest" });
        }
      });
    }).catch(function () {
      // Not reached: the form goes the ordinary way.
      form.submit();
    });
  }

  document.addEventListener("dragstart", function (ev) {
    var head = ev.target && ev.target.closest && ev.target.closest(".drag-handle");
    if (!head) {
      return;
    }
    dragged = head.closest("li.entry");
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", dragged.id);
    ev.dataTransfer.setDragImage(dragged, 10, 10);
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    clearMarks();
  });

  document.addEventListener("dragover", function (ev) {
    if (!dragged) {
      return;
    }
    var to = target(ev.target);
    if (!to) {
      return;
    }
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    if (!to.el.classList.contains("drop-target")) {
      clearMarks();
      to.el.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (ev) {
    var entry = dragged;
    var to = target(ev.target);
    dragged = null;
    clearMarks();
    if (!entry || !to) {
      return;
    }
    ev.preventDefault();
    move(entry, to);
  });

  enhance();
})();
