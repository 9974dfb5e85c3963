//! Writing iCalendar (RFC 5545): text values escaped, content lines folded
//! at 75 octets without splitting a UTF-8 character, CRLF line ends.

/// The longest content line in octets, without its CRLF (RFC 5545 3.1).
pub const LINE_OCTETS: usize = 75;

/// Escapes a TEXT value: backslash, semicolon, comma and newlines
/// (RFC 5545 3.3.11). A CR or CRLF counts as one newline; other control
/// characters, which a TEXT value may not hold, are left out.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line to `out`, folded: no physical line is longer
/// than 75 octets, each continuation starts with a space, a character is
/// never split, and every line ends in CRLF.
pub fn push_line(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > LINE_OCTETS {
            out.push_str("\r\n ");
            // The leading space counts towards the continuation's 75.
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// Undoes folding (a CRLF followed by a space or tab joins the lines);
/// for tests and readers.
pub fn unfold(s: &str) -> String {
    s.replace("\r\n ", "").replace("\r\n\t", "")
}

/// Undoes [`escape_text`].
pub fn unescape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An instant (UTC ms) as an iCalendar UTC DATE-TIME (`20261026T003000Z`).
pub fn utc_stamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// One event of the feed.
#[derive(Debug, Clone)]
pub struct Event {
    /// Stable per post.
    pub uid: String,
    /// When it starts (UTC ms).
    pub start: i64,
    /// How long it lasts, as an iCalendar duration (`PT15M`).
    pub duration: &'static str,
    /// The title.
    pub summary: String,
    /// The longer text.
    pub description: String,
    /// Where it can be seen.
    pub url: String,
}

/// A whole calendar: `VCALENDAR` with its events.
pub fn calendar(name: &str, stamp: i64, events: &[Event]) -> String {
    let mut out = String::with_capacity(256 + events.len() * 400);
    let line = |out: &mut String, s: &str| push_line(out, s);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Dialoog//Content calendar//NL");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    let stamp = utc_stamp(stamp);
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape_text(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART:{}", utc_stamp(e.start)));
        line(&mut out, &format!("DURATION:{}", e.duration));
        line(&mut out, &format!("SUMMARY:{}", escape_text(&e.summary)));
        line(
            &mut out,
            &format!("DESCRIPTION:{}", escape_text(&e.description)),
        );
        // A URI value is not TEXT: it is written as it is.
        line(&mut out, &format!("URL:{}", e.url));
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_comes_back() {
        let raw = "Taart; vers, lekker\\goed\nmorgen\r\nook";
        let e = escape_text(raw);
        assert_eq!(e, "Taart\\; vers\\, lekker\\\\goed\\nmorgen\\nook");
        assert_eq!(unescape_text(&e), "Taart; vers, lekker\\goed\nmorgen\nook");
        assert_eq!(escape_text("a\u{7}b\tc"), "ab c");
    }

    #[test]
    fn lines_fold_at_75_octets_on_character_boundaries() {
        // Two-, three- and four-byte characters at every offset.
        for prefix in 0..6 {
            let line = format!("SUMMARY:{}{}", "x".repeat(prefix), "é🎂ë€ij🥐 ".repeat(40));
            let mut out = String::new();
            push_line(&mut out, &line);
            assert!(out.ends_with("\r\n"));
            for (i, physical) in out.split_terminator("\r\n").enumerate() {
                assert!(physical.len() <= LINE_OCTETS, "{i}: {}", physical.len());
                if i > 0 {
                    assert!(physical.starts_with(' '));
                }
            }
            assert!(!out.replace("\r\n", "").contains('\r'));
            assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
        let mut short = String::new();
        push_line(&mut short, &"a".repeat(75));
        assert_eq!(short, format!("{}\r\n", "a".repeat(75)));
        let mut long = String::new();
        push_line(&mut long, &"a".repeat(76));
        assert_eq!(long, format!("{}\r\n a\r\n", "a".repeat(75)));
    }

    #[test]
    fn a_calendar_has_its_frame_and_utc_times() {
        let ev = Event {
            uid: "post-7@dialoog".into(),
            start: 1_792_974_600_000,
            duration: "PT15M",
            summary: "Appeltaart".into(),
            description: "@ada (Mastodon)".into(),
            url: "https://x.nl/w/1/calendar".into(),
        };
        let cal = calendar("Bakkerij, De Vries", 0, &[ev]);
        assert!(cal.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(cal.contains("X-WR-CALNAME:Bakkerij\\, De Vries\r\n"));
        assert!(cal.contains("DTSTART:20261026T003000Z\r\n"));
        assert!(cal.contains("DTSTAMP:19700101T000000Z\r\n"));
        assert!(cal.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    }
}
