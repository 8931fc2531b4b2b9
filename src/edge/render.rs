//! Content negotiation and rendering: handlers produce JSON values, and the edge layer
//! writes them as JSON or XML, whichever `Accept` asks for.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde_json::Value;

/// A response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json` (the default).
    Json,
    /// `application/xml`.
    Xml,
}

/// Picks the format `Accept` prefers; `None` when it allows neither (a 406).
pub fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Some(Format::Json);
    };
    let accept = accept.to_str().ok()?;
    if accept.trim().is_empty() {
        return Some(Format::Json);
    }
    let mut best: Option<(f32, u8, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
            .next()
            .unwrap_or(1.0);
        // Specific types win over wildcards at equal q.
        let choice = match media.as_str() {
            "application/json" | "application/merge-patch+json" => Some((2, Format::Json)),
            "application/xml" | "text/xml" => Some((2, Format::Xml)),
            "*/*" | "application/*" => Some((1, Format::Json)),
            _ => None,
        };
        if let Some((specificity, format)) = choice.filter(|_| q > 0.0) {
            if best.is_none_or(|(bq, bs, _)| q > bq || (q == bq && specificity > bs)) {
                best = Some((q, specificity, format));
            }
        }
    }
    best.map(|(_, _, f)| f)
}

/// A body waiting to be rendered, stored in the response's extensions.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The body as JSON.
    pub body: Value,
    /// The XML root element's name.
    pub root: &'static str,
}

impl Rendered {
    /// A response whose body the edge layer renders.
    pub fn response(status: StatusCode, body: Value, root: &'static str) -> Response {
        let mut response = status.into_response();
        response.extensions_mut().insert(Rendered { body, root });
        response
    }

    /// Writes the body into `response` in `format`.
    pub fn render_into(self, response: &mut Response, format: Format) {
        let (bytes, content_type) = match format {
            Format::Json => (
                serde_json::to_vec(&self.body).unwrap_or_default(),
                "application/json",
            ),
            Format::Xml => (
                to_xml(self.root, &self.body),
                "application/xml; charset=utf-8",
            ),
        };
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response.headers_mut().remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::from(bytes);
    }
}

/// JSON → XML: objects become elements named by their keys, arrays `<item>`s, `null` an
/// empty element. Text is escaped by the writer.
pub fn to_xml(root: &str, value: &Value) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    write_element(&mut w, root, value);
    w.into_inner()
}

fn write_element(w: &mut Writer<Vec<u8>>, name: &str, value: &Value) {
    let text = match value {
        Value::Null => {
            let _ = w.write_event(Event::Empty(BytesStart::new(name)));
            return;
        }
        Value::Object(map) => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            for (k, v) in map {
                write_element(w, k, v);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
            return;
        }
        Value::Array(items) => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            for v in items {
                write_element(w, "item", v);
            }
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
            return;
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    let _ = w.write_event(Event::Text(BytesText::from_escaped(xml_text(&text))));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

/// `s` as XML 1.0 character data: markup escaped; CR, NEL and LINE SEPARATOR as character
/// references (a parser turns a raw CR into LF, and one that follows XML 1.1's line-end
/// rules, as quick-xml does, NEL and U+2028 too); and any code point XML cannot carry (which input validation refuses, so
/// only data stored before it could hold one) replaced by U+FFFD.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\u{85}' => out.push_str("&#133;"),
            '\u{2028}' => out.push_str("&#8232;"),
            c if crate::domain::fields::is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accept(v: &str) -> Option<Format> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, v.parse().unwrap());
        negotiate(&h)
    }

    #[test]
    fn accept_picks_the_preferred_supported_format() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Format::Json));
        assert_eq!(accept("application/xml"), Some(Format::Xml));
        assert_eq!(
            accept("text/html, application/xml;q=0.9, */*;q=0.1"),
            Some(Format::Xml)
        );
        assert_eq!(
            accept("application/xml;q=0.5, application/json"),
            Some(Format::Json)
        );
        assert_eq!(accept("*/*"), Some(Format::Json));
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }

    #[test]
    fn xml_escapes_text_and_shapes_lists_like_the_seed() {
        let xml = to_xml(
            "export",
            &json!({"data": [{"lastName": "<b>&\"x\""}], "pagination": {"nextPageUrl": null}}),
        );
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(xml.contains("<export><data><item><lastName>&lt;b&gt;&amp;&quot;x&quot;</lastName></item></data><pagination><nextPageUrl/></pagination></export>"), "{xml}");
    }

    /// The text of `<user><firstName>…</firstName></user>` as an XML parser reads it.
    fn parsed_text(xml: &[u8]) -> String {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut text = String::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Text(t) => text.push_str(&t.xml_content().expect("valid text")),
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    let c = match name.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => r
                            .resolve_char_ref()
                            .expect("a character reference")
                            .expect("a known reference"),
                    };
                    text.push(c);
                }
                Event::Eof => return text,
                _ => {}
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_stored_text_renders_as_well_formed_xml_and_reads_back(s in "\\PC*|[\\x00-\\x{20}\\r\\u{FFFE}\\u{FFFF}&<>]*") {
            let xml = to_xml("user", &json!({"firstName": s}));
            let expected: String = s
                .chars()
                .map(|c| if crate::domain::fields::is_xml_char(c) { c } else { '\u{FFFD}' })
                .collect();
            proptest::prop_assert_eq!(parsed_text(&xml), expected);
        }
    }
}
