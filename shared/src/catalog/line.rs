//! Line numbers for JSON paths, so catalog problems can say "line 12".
//!
//! `serde_json::Value` keeps no positions, so this walks the (already valid) source once and
//! records the line where each path's key, or array element, starts.

use std::collections::HashMap;

/// Lines of every path in a JSON source (`criteria[2].indicators[0].max_points` → 57).
#[derive(Debug, Default)]
pub(crate) struct LineIndex {
    lines: HashMap<String, usize>,
}

impl LineIndex {
    /// Indexes `source`. On text that is not JSON it stops early and indexes what it saw.
    pub(crate) fn build(source: &str) -> LineIndex {
        let mut scanner = Scanner {
            bytes: source.as_bytes(),
            pos: 0,
            line: 1,
            lines: HashMap::new(),
        };
        scanner.value(String::new(), 0);
        LineIndex {
            lines: scanner.lines,
        }
    }

    /// The line of `path`, or of its nearest indexed ancestor (for a missing field, the object
    /// that lacks it).
    pub(crate) fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.lines.get(path) {
                return Some(*line);
            }
            if path.is_empty() {
                return None;
            }
            path = &path[..path.rfind(['.', '[']).unwrap_or(0)];
        }
    }
}

/// serde_json refuses nesting deeper than 128, so a valid source never reaches this.
const MAX_DEPTH: usize = 256;

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    lines: HashMap<String, usize>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line += 1;
        }
        self.pos += 1;
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }

    fn value(&mut self, path: String, depth: usize) {
        self.skip_ws();
        if depth > MAX_DEPTH {
            return;
        }
        self.lines.entry(path.clone()).or_insert(self.line);
        match self.peek() {
            Some(b'{') => self.object(&path, depth),
            Some(b'[') => self.array(&path, depth),
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.bump();
                }
            }
            None => {}
        }
    }

    fn object(&mut self, path: &str, depth: usize) {
        self.bump(); // {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.bump();
                    return;
                }
                Some(b'"') => {}
                _ => return,
            }
            let line = self.line;
            let key = self.string();
            let child = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            self.lines.insert(child.clone(), line);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return;
            }
            self.bump();
            self.value(child, depth + 1);
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.bump();
            }
        }
    }

    fn array(&mut self, path: &str, depth: usize) {
        self.bump(); // [
        let mut index = 0usize;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.bump();
                    return;
                }
                None => return,
                Some(_) => {}
            }
            let before = self.pos;
            self.value(format!("{path}[{index}]"), depth + 1);
            index += 1;
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.bump();
            } else if self.pos == before {
                return; // not JSON: make no progress, stop
            }
        }
    }

    /// Reads a string starting at its opening quote and returns its decoded text.
    fn string(&mut self) -> String {
        let start = self.pos;
        self.bump(); // opening quote
        while let Some(b) = self.peek() {
            match b {
                b'\\' => {
                    self.bump();
                    self.bump();
                }
                b'"' => {
                    self.bump();
                    break;
                }
                _ => self.bump(),
            }
        }
        let raw = self.bytes.get(start..self.pos).unwrap_or_default();
        let raw = std::str::from_utf8(raw).unwrap_or_default();
        serde_json::from_str(raw).unwrap_or_else(|_| raw.trim_matches('"').to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_keys_and_array_elements() {
        let source = "{\n  \"a\": 1,\n  \"list\": [\n    {\"x\": true},\n    {\n      \"x\": \"q\\\"\"\n    }\n  ]\n}";
        let index = LineIndex::build(source);
        assert_eq!(index.line_of("a"), Some(2));
        assert_eq!(index.line_of("list"), Some(3));
        assert_eq!(index.line_of("list[0].x"), Some(4));
        assert_eq!(index.line_of("list[1]"), Some(5));
        assert_eq!(index.line_of("list[1].x"), Some(6));
        // A missing field falls back to its object.
        assert_eq!(index.line_of("list[1].missing"), Some(5));
        assert_eq!(index.line_of(""), Some(1));
        assert_eq!(index.line_of("absent"), Some(1));
    }

    #[test]
    fn survives_text_that_is_not_json() {
        let index = LineIndex::build("{\"a\": [1, 2");
        assert_eq!(index.line_of("a[1]"), Some(1));
        let _ = LineIndex::build("[[[[");
        let _ = LineIndex::build("{\"unterminated");
    }
}
