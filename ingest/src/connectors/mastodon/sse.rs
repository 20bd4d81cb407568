//! Server-sent events read line by line (the WHATWG event-stream format): `event:` names the
//! event, `data:` lines make its data (joined by new lines), an empty line ends it, a line
//! starting with `:` is a comment (Mastodon's `:thump` heartbeats), `id:` and `retry:` are not
//! used.

/// Most bytes of one event's data; past it the event is marked oversized and its data cut.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its name (`update`, `delete`, `status.update`…; `message` when unnamed).
    pub name: String,
    /// Its data.
    pub data: String,
    /// Whether its data was over [`MAX_EVENT_BYTES`] (and is cut).
    pub oversized: bool,
}

/// The event being read.
#[derive(Debug, Default)]
pub struct Parser {
    name: Option<String>,
    data: String,
    has_data: bool,
    oversized: bool,
}

impl Parser {
    /// Reads `line` (without its end); the event it completes, if it does.
    pub fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.name = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.push("\n");
                }
                self.push(value);
                self.has_data = true;
            }
            _ => {}
        }
        None
    }

    fn push(&mut self, s: &str) {
        if self.data.len() + s.len() > MAX_EVENT_BYTES {
            self.oversized = true;
            return;
        }
        self.data.push_str(s);
    }

    fn dispatch(&mut self) -> Option<Event> {
        let parser = std::mem::take(self);
        parser.has_data.then(|| Event {
            name: parser.name.unwrap_or_else(|| "message".to_string()),
            data: parser.data,
            oversized: parser.oversized,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_comments_and_multi_line_data_are_read_as_the_format_says() {
        let mut p = Parser::default();
        let mut events = Vec::new();
        for line in [
            ":)",
            "event: update",
            "data: {\"a\":",
            "data:1}",
            "",
            ":thump",
            "",
            "event: delete",
            "id: 7",
            "data: 109",
            "",
            "data",
            "",
        ] {
            events.extend(p.line(line));
        }
        assert_eq!(
            events,
            [
                Event {
                    name: "update".into(),
                    data: "{\"a\":\n1}".into(),
                    oversized: false
                },
                Event {
                    name: "delete".into(),
                    data: "109".into(),
                    oversized: false
                },
                Event {
                    name: "message".into(),
                    data: "".into(),
                    oversized: false
                },
            ]
        );
        let big = "x".repeat(MAX_EVENT_BYTES / 2 + 1);
        assert_eq!(p.line(&format!("data: {big}")), None);
        assert_eq!(p.line(&format!("data: {big}")), None);
        let e = p.line("").unwrap();
        assert!(e.oversized && e.data.len() <= MAX_EVENT_BYTES);
    }
}
