//! Server-sent events (the `text/event-stream` format), read from chunks
//! as they arrive, with a bound on one event's size. A half-received event
//! when the connection drops is simply never completed.

/// One complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// Its `event:` name (`message` when none was given).
    pub name: String,
    /// Its `data:` lines, joined by line breaks.
    pub data: String,
}

/// Collects events from bytes.
#[derive(Debug)]
pub(crate) struct Parser {
    line: Vec<u8>,
    name: String,
    data: String,
    has_data: bool,
    size: usize,
    max: usize,
}

/// An event larger than the bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooLarge;

impl Parser {
    /// A parser that refuses events larger than `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            line: Vec::new(),
            name: String::new(),
            data: String::new(),
            has_data: false,
            size: 0,
            max,
        }
    }

    /// Feeds bytes; complete events are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), TooLarge> {
        for &b in bytes {
            if b == b'\n' {
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                let line = std::mem::take(&mut self.line);
                self.line_done(&line, out);
                continue;
            }
            self.size += 1;
            if self.size > self.max {
                return Err(TooLarge);
            }
            self.line.push(b);
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<Event>) {
        if line.is_empty() {
            if self.has_data {
                let name = if self.name.is_empty() {
                    "message".to_owned()
                } else {
                    std::mem::take(&mut self.name)
                };
                out.push(Event {
                    name,
                    data: std::mem::take(&mut self.data),
                });
            }
            self.name.clear();
            self.data.clear();
            self.has_data = false;
            self.size = 0;
            return;
        }
        if line.first() == Some(&b':') {
            return; // a comment: the server's heartbeat
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.name = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_across_chunks() {
        let mut p = Parser::new(1000);
        let mut out = vec![];
        let stream = b":connected\n\nevent: update\ndata: {\"a\":\ndata: 1}\n\n:thump\r\n\r\nevent: delete\r\ndata: 7\r\n\r\nevent: update\ndata: {\"half";
        for chunk in stream.chunks(3) {
            p.feed(chunk, &mut out).unwrap_or_default();
        }
        assert_eq!(
            out,
            [
                Event {
                    name: "update".into(),
                    data: "{\"a\":\n1}".into()
                },
                Event {
                    name: "delete".into(),
                    data: "7".into()
                }
            ],
            "the half event never completes"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_in_any_chunks_are_safe(bytes: Vec<u8>, cut in 0usize..64) {
            let mut p = Parser::new(256);
            let mut out = vec![];
            for chunk in bytes.chunks(cut.max(1)) {
                if p.feed(chunk, &mut out).is_err() {
                    break;
                }
            }
            proptest::prop_assert!(out.iter().all(|e| e.data.len() <= 256));
        }
    }

    #[test]
    fn events_are_bounded() {
        let mut p = Parser::new(10);
        let mut out = vec![];
        assert_eq!(p.feed(b"data: 0123456789\n\n", &mut out), Err(TooLarge));
        let mut p = Parser::new(100);
        for _ in 0..100 {
            assert_eq!(
                p.feed(b"data: 01234\n\n", &mut out),
                Ok(()),
                "the size is per event"
            );
        }
    }
}
